"""What staff see of follow-up tasks and repeat requests: the lead list's "repeat of deal N", the lead page's task."""

from datetime import UTC, datetime

import pytest

from amocrm.models import Delivery, DeliveryState
from leads.models import Lead

pytestmark = pytest.mark.django_db
LIST_URL = "/admin/leads/lead/"


def delivered(**fields) -> Delivery:
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="901234567")
    return Delivery.objects.create(lead=lead, state=DeliveryState.DELIVERED, amocrm_lead_id=555, **fields)


def lead_page(client, delivery: Delivery) -> str:
    return client.get(f"/admin/leads/lead/{delivery.lead_id}/change/").content.decode()


def test_the_lead_list_shows_a_repeat_request_as_repeat_of_its_deal(admin_client):
    delivered(repeat_of_deal_id=555)

    page = admin_client.get(LIST_URL).content.decode()

    assert "repeat of deal 555" in page
    assert "/leads/detail/555" in page


def test_the_lead_page_shows_a_repeat_request_as_repeat_of_its_deal(admin_client):
    item = delivered(repeat_of_deal_id=555)

    page = lead_page(admin_client, item)

    assert "repeat of deal 555" in page


def test_the_lead_page_shows_why_amocrm_refused_the_task(admin_client):
    due = datetime(2026, 12, 8, 4, 15, tzinfo=UTC)
    item = delivered(follow_up_due_at=due, task_error="amoCRM rejected the data (task_type_id)")

    page = lead_page(admin_client, item)

    assert "amoCRM refused it (amoCRM rejected the data (task_type_id))" in page


def test_the_lead_page_shows_a_created_task_with_its_text(admin_client):
    due = datetime(2026, 12, 8, 4, 15, tzinfo=UTC)
    item = delivered(follow_up_due_at=due, task_id=77, follow_up_text="Call Dilnoza back")

    page = lead_page(admin_client, item)

    assert "Call Dilnoza back" in page


def test_the_lead_page_shows_a_refused_contact_update(admin_client):
    item = delivered(contact_update_error="amoCRM rejected the data")

    page = lead_page(admin_client, item)

    assert "amoCRM refused the new phone or email (amoCRM rejected the data)" in page


def test_a_lead_without_a_task_shows_no_task_row(admin_client):
    item = delivered()

    page = lead_page(admin_client, item)

    assert "field-amocrm_follow_up" not in page
