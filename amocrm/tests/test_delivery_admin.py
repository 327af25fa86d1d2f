import pytest

from amocrm.models import Delivery, DeliveryState, Settings
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered() -> Delivery:
    conn = Settings.load()
    conn.domain = "acoustic.amocrm.ru"
    conn.save()
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="x")
    return Delivery.objects.create(lead=lead, state=DeliveryState.DELIVERED, amocrm_lead_id=555, attempts=1)


@pytest.fixture
def rejected() -> Delivery:
    lead = Lead.objects.create(name="Anvar", phone="+998907654321", phone_raw="x")
    return Delivery.objects.create(
        lead=lead, state=DeliveryState.NEEDS_ATTENTION, attempts=3, last_error="Not a valid choice",
        last_error_path="custom_fields_values.0.field_id",
    )  # fmt: skip


def test_it_shows_delivery_state_and_deal_link(admin_client, delivered, rejected):
    page = admin_client.get("/admin/leads/lead/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'href="https://acoustic.amocrm.ru/leads/detail/555"' in page
    assert "Needs attention" in page and "Delivered" in page


def test_the_lead_page_shows_amocrms_refusal(admin_client, rejected):
    page = admin_client.get(f"/admin/leads/lead/{rejected.lead_id}/change/", HTTP_ACCEPT_LANGUAGE="en")

    assert "Not a valid choice (custom_fields_values.0.field_id)" in page.content.decode()


def test_it_filters_leads_by_delivery_state(admin_client, delivered, rejected):
    page = admin_client.get("/admin/leads/lead/?amocrm_delivery__state=needs_attention").content.decode()

    assert "Anvar" in page and "Dilnoza" not in page


def test_retry_delivery_puts_a_lead_back_in_line(admin_client, rejected, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(
            "/admin/leads/lead/", {"action": "retry_delivery", "_selected_action": [rejected.lead_id]}, follow=True
        )

    rejected.refresh_from_db()
    assert rejected.state == DeliveryState.PENDING and rejected.last_error == ""
    assert len(queued) == 1


def test_retry_delivery_leaves_delivered_leads_alone(admin_client, delivered):
    admin_client.post("/admin/leads/lead/", {"action": "retry_delivery", "_selected_action": [delivered.lead_id]})

    assert Delivery.objects.get().state == DeliveryState.DELIVERED


def test_a_lead_awaiting_its_dispatch_shows_as_pending(admin_client):
    Lead.objects.create(name="Bobur", phone="+998901112233", phone_raw="x", dispatch_pending=True)

    page = admin_client.get("/admin/leads/lead/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<td class="field-delivery_state">Pending</td>' in page
