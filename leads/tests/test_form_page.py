import re

import pytest
from django.test import Client, override_settings

from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_it_shows_the_form_in_uzbek_by_default(client):
    response = client.get("/")

    assert response.status_code == 200
    assert 'lang="uz"' in response.content.decode()
    assert "Ismingiz" in response.content.decode()


@pytest.mark.parametrize(("language", "label"), [("ru", "Ваше имя"), ("en", "Your name")])
def test_it_speaks_russian_and_english_too(client, language, label):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)

    assert label in response.content.decode()


def test_it_fills_hidden_tracking_fields_from_the_query_string(client):
    response = client.get("/?source=callback&product_id=p-42&utm_source=instagram&utm_campaign=nov")

    page = response.content.decode()
    assert 'name="source" value="callback"' in page
    assert 'name="product_id" value="p-42"' in page
    assert 'name="utm_source" value="instagram"' in page
    assert 'name="utm_campaign" value="nov"' in page


def test_it_escapes_query_values_it_echoes(client):
    response = client.get('/?utm_source="><script>alert(1)</script>')

    assert "<script>alert(1)</script>" not in response.content.decode()


def test_it_stores_a_submission_and_redirects_to_the_thank_you(client):
    response = client.post("/", {"name": "Anvar", "phone": "90 123 45 67", "source": "callback"})

    assert response.status_code == 302
    assert response["Location"] == "/?sent=1"
    assert Lead.objects.get().source == "callback"
    assert "Rahmat" in client.get(response["Location"]).content.decode()


def test_it_shows_each_error_next_to_its_field_and_keeps_the_input(client):
    response = client.post("/", {"name": "", "phone": "junk", "email": "bad"}, HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 400
    assert page.count('class="errorlist"') == 3
    assert 'value="junk"' in page
    assert not Lead.objects.exists()


def test_it_requires_the_csrf_token():
    response = Client(enforce_csrf_checks=True).post("/", {"name": "Anvar", "phone": "901234567"})

    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_it_drops_honeypot_submissions_silently(client):
    response = client.post("/", {"name": "Bot", "phone": "901234567", "website": "spam"})

    assert response.status_code == 302
    assert not Lead.objects.exists()


@override_settings(LEAD_RATE_LIMIT="1/m")
def test_it_tells_a_person_who_sends_too_often_to_wait(client):
    client.post("/", {"name": "Anvar", "phone": "901234567"})

    response = client.post("/", {"name": "Anvar", "phone": "901234567"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert "try again in a minute" in response.content.decode()


def test_after_sending_it_shows_only_the_thanks(client):
    sent = client.post("/", {"name": "Anvar", "phone": "90 123 45 67"})

    page = client.get(sent["Location"]).content.decode()

    assert "Rahmat" in page
    assert 'name="phone"' not in page


def test_the_thank_you_address_opened_directly_shows_the_form(client):
    page = client.get("/?sent=1").content.decode()

    assert 'name="phone"' in page
    assert '<p class="notice" role="status">' not in page  # the thanks the script shows is there, hidden


def test_reloading_the_thanks_shows_the_form_again(client):
    sent = client.post("/", {"name": "Anvar", "phone": "90 123 45 67"})
    client.get(sent["Location"])

    page = client.get(sent["Location"]).content.decode()

    assert 'name="phone"' in page


def test_it_stores_the_phone_without_the_newlines_typed_before_it(client):
    response = client.post("/", {"name": "Anvar", "phone": "\n" * 70 + "90 123 45 67"})

    assert response.status_code == 302
    assert Lead.objects.get().phone_raw == "90 123 45 67"  # was stored with its newlines: a 500 on PostgreSQL


def test_each_page_carries_a_fresh_idempotency_key(client):
    first, second = (
        re.search(r'name="idempotency_key" value="([^"]+)"', client.get("/").content.decode()) for _ in "12"
    )

    assert first[1] != second[1]


def test_sending_the_same_page_twice_makes_one_lead(client):
    submission = {"name": "Anvar", "phone": "90 123 45 67", "idempotency_key": "page-key-0123456789"}
    client.post("/", submission)

    again = client.post("/", submission)

    assert again.status_code == 302
    assert Lead.objects.count() == 1


def test_sending_the_same_page_with_other_details_asks_first(client):
    client.post("/", {"name": "Anvar", "phone": "90 123 45 67", "idempotency_key": "page-key-0123456789"})

    response = client.post(
        "/", {"name": "Anvar", "phone": "90 765 43 21", "idempotency_key": "page-key-0123456789"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip

    assert response.status_code == 409
    assert "already sent with other details" in response.content.decode()
    assert 'value="page-key-0123456789"' not in response.content.decode()
    assert Lead.objects.count() == 1


def test_it_includes_the_site_script_at_its_versioned_url(client):
    page = client.get("/").content.decode()

    assert re.search(r'<script src="/js/acoustic-leads\.[0-9a-f]{12}\.js" defer>', page)
    assert 'data-acoustic-lead="lead-thanks"' in page
