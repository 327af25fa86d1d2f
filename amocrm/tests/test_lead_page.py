"""A lead's page: read-only, in groups, labels in words, amoCRM's attempts and errors only when there were any;
the lead list: the columns staff use, a tap-to-call phone, the first stage's name before the deal moves."""

import pytest
import responses

from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tests.conftest import BASE_URL
from amocrm.tests.deal_sync_helpers import SALES_FIRST, delivered_lead, pipelines_json
from leads.models import Lead

pytestmark = pytest.mark.django_db
LIST_URL = "/admin/leads/lead/"


def lead_page(client, lead: Lead) -> str:
    return client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()


@pytest.fixture
def delivered() -> Delivery:
    return delivered_lead(555)


def test_the_lead_page_has_no_save_button(admin_client, delivered):
    page = lead_page(admin_client, delivered.lead)

    assert 'name="_save"' not in page


def test_the_lead_page_groups_the_fields(admin_client, delivered):
    page = lead_page(admin_client, delivered.lead)

    for group in ("The person", "What they asked", "Where they came from", "amoCRM"):
        assert f">{group}</h2>" in page


def test_the_lead_page_labels_utm_fields_in_words(admin_client, delivered):
    page = lead_page(admin_client, delivered.lead)

    assert "UTM source" in page
    assert "Utm_source" not in page


def test_a_delivered_lead_shows_no_attempts_nor_next_attempt(admin_client, delivered):
    page = lead_page(admin_client, delivered.lead)

    assert "Next attempt" not in page
    assert "field-amocrm_attempts" not in page


def test_a_retrying_lead_shows_its_attempts_and_error(admin_client):
    lead = Lead.objects.create(name="Anvar", phone="+998907654321", phone_raw="x")
    Delivery.objects.create(lead=lead, state=DeliveryState.RETRYING, attempts=3, last_error="amoCRM answered 502")

    page = lead_page(admin_client, lead)

    assert "field-amocrm_attempts" in page
    assert "amoCRM answered 502" in page


def test_the_lead_page_links_the_deal(admin_client, delivered):
    page = lead_page(admin_client, delivered.lead)

    assert "/leads/detail/555" in page


def test_the_list_calls_the_phone_on_tap(admin_client, delivered):
    page = admin_client.get(LIST_URL).content.decode()

    assert '<a class="phone" href="tel:+998901234567">+998 90 123 45 67</a>' in page


def test_the_list_leaves_attempts_and_errors_to_the_lead_page(admin_client, delivered):
    page = admin_client.get(LIST_URL).content.decode()

    assert "field-delivery_attempts" not in page


@pytest.mark.usefixtures("limiter")
@responses.activate
def test_a_deal_nobody_moved_shows_the_stage_it_starts_in(admin_client, connected, delivered):
    responses.get(f"{BASE_URL}/api/v4/leads/pipelines", json=pipelines_json())
    responses.get(f"{BASE_URL}/api/v4/leads/custom_fields", json={"_embedded": {"custom_fields": []}})
    responses.get(f"{BASE_URL}/api/v4/account", json={"id": 1, "name": "Acoustic", "subdomain": "acoustic"})
    Settings.objects.filter(pk=1).update(status_id=SALES_FIRST)

    page = admin_client.get(LIST_URL).content.decode()

    assert "In progress: First contact" in page


def test_without_a_connection_the_stage_says_in_progress(admin_client, delivered):
    page = admin_client.get(LIST_URL).content.decode()

    assert '<td class="field-deal_stage">In progress</td>' in page
