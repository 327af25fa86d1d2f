"""The deal's note reads as a person would write it: labelled, the form by its name, no raw slugs."""

from datetime import UTC, datetime

import pytest

from amocrm.delivery.note_text import has_note, note_text
from leads.models import Lead

pytestmark = pytest.mark.django_db


def _lead(**fields) -> Lead:
    return Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="901234567", **fields)


def _lines(lead: Lead) -> list[str]:
    return note_text(lead).splitlines()


def test_it_names_a_known_form_instead_of_its_slug():
    lines = _lines(_lead(source="callback"))

    assert "Form: Call back request" in lines


def test_it_reads_an_unknown_forms_slug_as_words():
    lines = _lines(_lead(source="price_list"))

    assert "Form: Price list" in lines


def test_it_translates_the_forms_name_into_the_sites_language(settings):
    settings.LANGUAGE_CODE = "ru"

    lines = _lines(_lead(source="callback"))

    assert "Форма: Запрос обратного звонка" in lines


def test_it_labels_each_utm_value():
    lead = _lead(utm_source="google", utm_medium="cpc", utm_campaign="nov", utm_content="banner", utm_term="quloq")

    lines = _lines(lead)

    assert "UTM source: google" in lines
    assert "UTM medium: cpc" in lines
    assert "UTM campaign: nov" in lines
    assert "UTM content: banner" in lines
    assert "UTM term: quloq" in lines


def test_it_labels_the_page_and_the_landing_page():
    lines = _lines(_lead(page_url="https://acoustic.uz/contact", landing_page="https://acoustic.uz/?utm_source=x"))

    assert "Page: https://acoustic.uz/contact" in lines
    assert "Landing page: https://acoustic.uz/?utm_source=x" in lines


def test_it_shows_the_first_visit_when_it_differs_from_the_last():
    lines = _lines(_lead(utm_source="google", first_utm_source="facebook", first_landing_page="https://acoustic.uz/a"))

    assert "First visit: UTM source: facebook" in lines
    assert "First visit: Landing page: https://acoustic.uz/a" in lines


def test_it_leaves_out_a_first_visit_that_was_the_last_one():
    lines = _lines(_lead(utm_source="google", first_utm_source="google"))

    assert not [line for line in lines if line.startswith("First visit")]


def test_it_labels_the_click_and_visitor_ids():
    lead = _lead(gclid="g-1", yclid="y-2", fbclid="f-3", ym_uid="1700000000123", ga_client_id="GA1.2.3.4")

    lines = _lines(lead)

    assert "Google Ads click (gclid): g-1" in lines
    assert "Yandex Direct click (yclid): y-2" in lines
    assert "Facebook click (fbclid): f-3" in lines
    assert "Yandex Metrica visitor (_ym_uid): 1700000000123" in lines
    assert "Google Analytics client id: GA1.2.3.4" in lines


def test_it_lists_the_forms_other_fields_with_readable_labels():
    lines = _lines(_lead(extra={"branch": "Chilonzor", "preferred_time": "after 18:00"}))

    assert "Branch: Chilonzor" in lines
    assert "Preferred time: after 18:00" in lines


def test_it_says_when_consent_was_given_and_to_which_text(settings):
    settings.TIME_ZONE = "UTC"
    lead = _lead(consent_given_at=datetime(2026, 12, 5, 14, 3, tzinfo=UTC), consent_version="2025-03")

    lines = _lines(lead)

    assert "Consent given: Dec. 5, 2026, 2:03 p.m., text version 2025-03" in lines


def test_it_shows_no_raw_field_names():
    text = note_text(_lead(source="contact_form", utm_source="google", gclid="g-1"))

    assert "utm_" not in text
    assert "contact_form" not in text


def test_a_lead_with_only_a_name_and_phone_needs_no_note():
    assert has_note(_lead()) is False


def test_a_lead_with_extra_fields_gets_a_note():
    assert has_note(_lead(extra={"branch": "Chilonzor"})) is True
