"""Consent: stored when the site sends it (when, and to which text version); required when the settings say so."""

import json

import pytest
from django.utils import timezone

from leads import models
from leads.models import IntakeSettings, Lead

pytestmark = pytest.mark.django_db

LEAD = {"name": "Dilnoza", "phone": "90 123 45 67"}


def post(client, body):
    return client.post("/api/leads", json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def versioned(intake_settings) -> IntakeSettings:
    intake_settings.consent_version = "2025-03"
    intake_settings.save()
    return intake_settings


@pytest.fixture
def required(versioned) -> IntakeSettings:
    versioned.consent_required = True
    versioned.save()
    return versioned


@pytest.mark.parametrize("ticked", [True, "on", "yes", "1", "agree"])
def test_it_stores_when_consent_was_given_and_to_which_text(client, versioned, ticked):
    before = timezone.now()

    post(client, {**LEAD, "consent": ticked})

    lead = Lead.objects.get()
    assert lead.consent_given_at >= before
    assert lead.consent_version == "2025-03"


@pytest.mark.parametrize(
    "body", [LEAD, {**LEAD, "consent": False}, {**LEAD, "consent": "off"}, {**LEAD, "consent": "0"}]
)
def test_it_stores_no_consent_when_none_was_given(client, versioned, body):
    post(client, body)

    lead = Lead.objects.get()
    assert lead.consent_given_at is None
    assert lead.consent_version == ""


def test_it_refuses_a_lead_without_consent_when_it_is_required(client, required):
    response = post(client, LEAD)

    assert response.status_code == 400
    assert response.json()["errors"] == {"consent": ["Please agree to the processing of your personal data."]}
    assert not Lead.objects.exists()


def test_it_takes_a_lead_with_consent_when_it_is_required(client, required):
    response = post(client, {**LEAD, "consent": "on"})

    assert response.status_code == 201


def test_it_refuses_a_consent_of_the_wrong_type(client, intake_settings):
    response = post(client, {**LEAD, "consent": ["on"]})

    assert response.status_code == 400
    assert response.json()["errors"] == {"consent": ["Must be a string."]}


def test_the_intake_reads_the_settings_from_memory_not_per_request(client, versioned, django_assert_num_queries):
    post(client, LEAD)

    with django_assert_num_queries(1):  # the INSERT, and nothing else
        post(client, {**LEAD, "consent": "on"})


def test_a_change_saved_in_this_process_applies_at_once(client, versioned):
    post(client, LEAD)
    versioned.consent_required = True
    versioned.save()

    response = post(client, LEAD)

    assert response.status_code == 400


def test_other_processes_see_a_change_within_30_seconds(client, versioned, monkeypatch):
    post(client, LEAD)
    IntakeSettings.objects.update(consent_required=True)  # as another process's save looks from here
    now = models.time.monotonic()
    monkeypatch.setattr(models.time, "monotonic", lambda: now + models.SETTINGS_TTL + 1)

    response = post(client, LEAD)

    assert response.status_code == 400


def test_the_form_page_asks_for_consent_when_it_is_required(client, required):
    page = client.get("/").content.decode()

    assert 'name="consent"' in page


def test_the_form_page_asks_nothing_when_it_is_not(client, intake_settings):
    page = client.get("/").content.decode()

    assert 'name="consent"' not in page


def test_staff_edit_the_settings_on_one_page(admin_client, intake_settings):
    response = admin_client.post(
        f"/admin/leads/intakesettings/{intake_settings.pk}/change/",
        {"consent_required": "on", "consent_version": "2025-04"},
    )

    assert response.status_code == 302
    assert IntakeSettings.load().consent_required is True
    assert IntakeSettings.cached().consent_version == "2025-04"


def test_the_settings_list_opens_the_one_row(admin_client, intake_settings):
    response = admin_client.get("/admin/leads/intakesettings/")

    assert response["Location"] == f"/admin/leads/intakesettings/{intake_settings.pk}/change/"
