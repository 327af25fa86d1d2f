import json

import pytest
from django.test import override_settings

from leads.forms import LeadForm
from leads.models import Lead

pytestmark = pytest.mark.django_db


def post_json(client, body, **extra):
    return client.post("/api/leads", data=json.dumps(body), content_type="application/json", **extra)


def test_it_stores_a_json_lead_with_every_field(client, lead_payload):
    response = post_json(client, lead_payload, HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 201
    lead = Lead.objects.get(id=response.json()["id"])
    assert lead.phone == "+998901234567"
    assert lead.phone_raw == "+998 90 123 45 67"
    assert (lead.source, lead.product_id, lead.utm_term) == ("product_page", "phonak-audeo-l90", "hearing aid")
    assert (lead.client_ip, lead.user_agent) == ("203.0.113.7", "Mozilla/5.0")


def test_it_stores_a_form_encoded_lead(client):
    response = client.post("/api/leads", {"name": "Anvar", "phone": "90 123 45 67"})

    assert response.status_code == 201
    assert Lead.objects.get().phone == "+998901234567"


def test_it_accepts_the_trailing_slash(client):
    response = client.post(
        "/api/leads/", data=json.dumps({"name": "Anvar", "phone": "998901234567"}), content_type="application/json"
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+998 71 202 14 41", "+998712021441"),
        ("90 123 45 67", "+998901234567"),
        ("998901234567", "+998901234567"),
        ("+7 912 987-65-43", "+79129876543"),
    ],
)
def test_it_normalizes_phones_to_e164(client, typed, stored):
    response = post_json(client, {"name": "Anvar", "phone": typed})

    assert response.status_code == 201
    assert Lead.objects.get().phone == stored


@pytest.mark.parametrize("junk", ["junk", "12", "+998 90", "1234567890123456789"])
def test_it_rejects_junk_phones(client, junk):
    response = post_json(client, {"name": "Anvar", "phone": junk})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["phone"]
    assert not Lead.objects.exists()


def test_it_reports_every_bad_field_at_once(client):
    response = post_json(client, {"phone": "", "email": "not-an-email", "source": "two words"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "phone", "email", "source"}
    assert all(isinstance(m, str) for messages in response.json()["errors"].values() for m in messages)


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "x" * 201), ("message", "x" * 5001), ("utm_source", "x" * 256), ("product_id", "x" * 101)],
)
def test_it_rejects_values_that_are_too_long(client, field, value):
    response = post_json(client, {"name": "Anvar", "phone": "901234567", field: value})

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_it_defaults_the_source_to_the_contact_form(client):
    post_json(client, {"name": "Anvar", "phone": "901234567"})

    assert Lead.objects.get().source == "contact_form"


def test_it_answers_malformed_json_with_a_clear_400(client):
    response = client.post("/api/leads", data="{name: oops", content_type="application/json")

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


@pytest.mark.parametrize("body", ["[]", '"text"', "null", "42"])
def test_it_requires_a_json_object(client, body):
    response = client.post("/api/leads", data=body, content_type="application/json")

    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]


def test_it_names_fields_of_the_wrong_type(client):
    response = post_json(client, {"name": ["Anvar"], "phone": {"n": 1}, "email": True})

    assert response.status_code == 400
    assert response.json()["errors"] == {f: ["Must be a string."] for f in ("email", "name", "phone")}


def test_it_accepts_a_phone_sent_as_a_number(client):
    response = post_json(client, {"name": "Anvar", "phone": 998901234567})

    assert response.status_code == 201


def test_it_refuses_other_content_types(client):
    response = client.post("/api/leads", data="name=Anvar", content_type="text/plain")

    assert response.status_code == 400
    assert "application/json" in response.json()["error"]


def test_it_refuses_bodies_over_16_kib_with_413(client):
    response = post_json(client, {"name": "Anvar", "phone": "901234567", "message": "x" * 17_000})

    assert response.status_code == 413
    assert "bytes" in response.json()["error"]
    assert not Lead.objects.exists()


def test_it_answers_other_methods_with_a_json_405(client):
    response = client.get("/api/leads")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "POST" in response.json()["error"]


def test_it_pretends_to_accept_a_bot_filling_the_honeypot(client, lead_payload):
    response = post_json(client, {**lead_payload, "website": "http://spam.example"})

    assert response.status_code == 201
    assert not Lead.objects.exists()


def test_it_is_csrf_exempt(lead_payload):
    from django.test import Client

    response = post_json(Client(enforce_csrf_checks=True), lead_payload)

    assert response.status_code == 201


def test_it_stores_the_phone_as_typed_without_its_padding(client):
    response = post_json(client, {"name": "Anvar", "phone": "+998 90 123 45 67" + "\t" * 60})

    assert response.status_code == 201
    assert Lead.objects.get().phone_raw == "+998 90 123 45 67"  # was stored with its 60 tabs: a 500 on PostgreSQL


PADDING = " \t\n\r\x0b\x0c\u00a0\u2028\u3000" * 10
# Every text the form takes and the lead stores as it came (phone, email and source are checked for their form).
FREE_TEXTS = {
    field.name: field.max_length
    for field in Lead._meta.fields
    if field.name in LeadForm.base_fields and field.max_length and field.name not in ("phone", "email", "source")
}


@pytest.mark.parametrize(("name", "length"), FREE_TEXTS.items())
def test_a_value_as_long_as_its_column_fits_however_it_is_padded(client, name, length):
    response = post_json(client, {"name": "Anvar", "phone": "901234567", name: PADDING + "x" * length + PADDING})

    assert response.status_code == 201
    assert len(getattr(Lead.objects.get(), name)) == length


def test_it_stores_every_tracking_field(client, lead_payload):
    tracking = {
        "landing_page": "https://acoustic.uz/?utm_source=google", "first_landing_page": "https://acoustic.uz/blog",
        "first_referrer": "https://yandex.uz/", "first_utm_source": "yandex", "first_utm_medium": "organic",
        "first_utm_campaign": "brand", "first_utm_content": "ad-2", "first_utm_term": "eshitish",
        "gclid": "Cj0KCQiA", "yclid": "7823490123", "fbclid": "IwAR2x", "ym_uid": "1700000000123456789",
        "ga_client_id": "1234567890.1700000000",
    }  # fmt: skip

    post_json(client, {**lead_payload, **tracking})

    lead = Lead.objects.get()
    assert {name: getattr(lead, name) for name in tracking} == tracking
    assert lead.extra == {}


@override_settings(LEAD_RATE_LIMIT="3/m")
def test_it_limits_each_client_ip_with_a_json_429(client):
    statuses = [
        post_json(client, {"name": "A", "phone": "901234567"}, REMOTE_ADDR="198.51.100.1").status_code for _ in range(4)
    ]
    other_ip = post_json(client, {"name": "B", "phone": "901234567"}, REMOTE_ADDR="198.51.100.2")

    assert statuses == [201, 201, 201, 429]
    assert other_ip.status_code == 201
    assert Lead.objects.count() == 4


@override_settings(LEAD_RATE_LIMIT="2/m")
def test_it_says_why_in_the_429_body(client):
    for _ in range(2):
        post_json(client, {"name": "A", "phone": "901234567"})

    response = post_json(client, {"name": "A", "phone": "901234567"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Too many requests. Please try again in a minute."}


@override_settings(LEAD_RATE_LIMIT="")
def test_an_empty_rate_limit_turns_limiting_off(client):
    statuses = {post_json(client, {"name": "A", "phone": "901234567"}).status_code for _ in range(15)}

    assert statuses == {201}


@override_settings(LEAD_RATE_LIMIT="2/m", TRUSTED_PROXIES=["10.0.0.0/8"])
def test_it_limits_by_the_forwarded_ip_behind_a_trusted_proxy(client):
    def send(forwarded):
        return post_json(
            client, {"name": "A", "phone": "901234567"}, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert [send("203.0.113.9"), send("203.0.113.9"), send("203.0.113.9")] == [201, 201, 429]
    assert send("203.0.113.10") == 201
    assert Lead.objects.filter(client_ip="203.0.113.10").exists()


@override_settings(TRUSTED_PROXIES=[])
def test_it_ignores_forwarded_for_from_untrusted_peers(client):
    post_json(
        client, {"name": "A", "phone": "901234567"}, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )

    assert Lead.objects.get().client_ip == "198.51.100.1"
