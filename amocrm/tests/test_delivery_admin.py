from datetime import timedelta

import pytest
from django.utils import timezone

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


@pytest.fixture
def being_sent() -> Delivery:
    """A worker claimed it a moment ago and is sending it now: its lease is live."""
    lead = Lead.objects.create(name="Bobur", phone="+998901112233", phone_raw="x")
    return Delivery.objects.create(
        lead=lead, state=DeliveryState.SENDING, attempts=1, claim_token="worker-a",
        claimed_until=timezone.now() + timedelta(minutes=4),
    )  # fmt: skip


def _retry(client, *deliveries: Delivery):
    data = {"action": "retry_delivery", "_selected_action": [d.lead_id for d in deliveries]}
    return client.post("/admin/leads/lead/", data, follow=True, HTTP_ACCEPT_LANGUAGE="en")


def test_retry_delivery_leaves_a_delivery_a_worker_is_sending_alone(admin_client, being_sent):
    _retry(admin_client, being_sent)

    being_sent.refresh_from_db()
    assert being_sent.claim_token == "worker-a"


def test_retry_delivery_says_how_many_it_left_alone_and_why(admin_client, being_sent, rejected):
    response = _retry(admin_client, being_sent, rejected)

    texts = [str(message) for message in response.context["messages"]]
    assert "1 lead is being sent right now and was left alone" in texts[1]


def test_retry_delivery_takes_up_a_delivery_whose_worker_vanished(admin_client, being_sent):
    Delivery.objects.filter(id=being_sent.id).update(claimed_until=timezone.now() - timedelta(seconds=1))

    _retry(admin_client, being_sent)

    being_sent.refresh_from_db()
    assert being_sent.state == DeliveryState.PENDING


def test_staff_who_may_only_view_leads_cannot_retry_delivery(viewer_client, rejected):
    _retry(viewer_client("view_lead"), rejected)

    assert Delivery.objects.get(id=rejected.id).state == DeliveryState.NEEDS_ATTENTION


def test_a_lead_awaiting_its_dispatch_shows_as_pending(admin_client):
    Lead.objects.create(name="Bobur", phone="+998901112233", phone_raw="x", dispatch_pending=True)

    page = admin_client.get("/admin/leads/lead/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<td class="field-delivery_state">Pending</td>' in page


def test_staff_who_may_change_deliveries_can_retry_from_the_read_only_lead_list(viewer_client, rejected):
    _retry(viewer_client("view_lead", "change_delivery"), rejected)

    rejected.refresh_from_db()
    assert rejected.state == DeliveryState.PENDING
