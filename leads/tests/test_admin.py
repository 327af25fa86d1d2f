"""The lead's change page shows every field the site sent: the form's other fields, consent and attribution."""

import pytest

from leads.models import Lead

pytestmark = pytest.mark.django_db


def change_page(admin_client, **fields) -> str:
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="90 123 45 67", **fields)
    return admin_client.get(f"/admin/leads/lead/{lead.id}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_it_shows_the_forms_other_fields_by_name(admin_client):
    page = change_page(admin_client, extra={"branch": "Chilonzor", "preferred_time": "10:00-12:00"})

    assert "<tr><th>Branch</th><td>Chilonzor</td></tr>" in page
    assert "<tr><th>Preferred time</th><td>10:00-12:00</td></tr>" in page


def test_it_escapes_their_names_and_values(admin_client):
    page = change_page(admin_client, extra={"<b>x</b>": "<script>alert(1)</script>"})

    assert "<script>alert(1)</script>" not in page
    assert "<tr><th>&lt;b&gt;x&lt;/b&gt;</th><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr>" in page


def test_it_shows_the_click_ids_and_the_first_touch(admin_client):
    page = change_page(admin_client, gclid="Cj0KCQiA", first_utm_source="yandex", ga_client_id="12.34")

    assert "Cj0KCQiA" in page
    assert "yandex" in page
    assert "12.34" in page


def test_it_shows_the_consent_text_version(admin_client):
    page = change_page(admin_client, consent_version="2025-03")

    assert "2025-03" in page


def test_it_never_shows_the_idempotency_digest(admin_client):
    page = change_page(admin_client, idempotency_key="f" * 64)

    assert "f" * 64 not in page
