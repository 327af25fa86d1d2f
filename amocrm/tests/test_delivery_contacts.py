"""Which contact a deal gets, against the sandbox: the one we know, one amoCRM has, or a new one."""

from collections import Counter

import pytest
import requests

from amocrm.delivery import batch as delivery
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tasks import push_lead
from amocrm.tests.delivery_helpers import (
    api_calls,
    configured_for_delivery,
    deals,
    new_lead,
)


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    return configured_for_delivery(sandbox_conn)


@pytest.mark.django_db
def test_a_person_who_writes_again_gets_the_contact_we_know(sandbox, conn):
    first = new_lead(phone="+998901112233")
    push_lead(first.id)
    second = new_lead(phone="+998901112233", name="Dilnoza K.")

    push_lead(second.id)

    second.refresh_from_db()
    first.refresh_from_db()
    assert second.amocrm_contact_id == first.amocrm_contact_id
    assert len(sandbox.state.contacts) == 1
    assert len(api_calls(sandbox, "/api/v4/contacts")) == 0


@pytest.mark.django_db
def test_leads_of_one_batch_with_the_same_phone_share_one_contact(sandbox, conn):
    items = [new_lead(phone="+998901112233"), new_lead(phone="+998901112233"), new_lead(phone="+998905556677")]

    delivery.deliver_due()

    contact_ids = Counter(d.amocrm_contact_id for d in Delivery.objects.filter(id__in=[i.id for i in items]))
    assert sorted(contact_ids.values()) == [1, 2]
    assert len(sandbox.state.contacts) == 2 and len(deals(sandbox)) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("written_in_amocrm", ["+998907776655", "998907776655", "907776655"])
def test_it_can_find_a_contact_amocrm_already_has_for_a_new_phone(sandbox, conn, written_in_amocrm):
    sandbox_contact = _create_contact_in_amocrm(conn, written_in_amocrm)
    conn.search_contacts_by_phone = True
    conn.save()
    item = new_lead(phone="+998907776655")

    push_lead(item.id)

    item.refresh_from_db()
    assert item.amocrm_contact_id == sandbox_contact
    assert len(sandbox.state.contacts) == 1


def _create_contact_in_amocrm(conn: Settings, phone: str) -> int:
    """A customer amoCRM knew before the site existed (created straight through the API)."""
    body = [{"name": "Old customer", "custom_fields_values": [
        {"field_code": "PHONE", "values": [{"value": phone, "enum_code": "MOB"}]}]}]  # fmt: skip
    response = requests.post(f"{conn.base_url}/api/v4/contacts", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {conn.access_token}"})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["_embedded"]["contacts"][0]["id"]


@pytest.mark.django_db
def test_a_person_whose_contact_was_deleted_in_amocrm_gets_a_new_one(sandbox, conn):
    first = new_lead(phone="+998901112233")
    push_lead(first.id)
    first.refresh_from_db()
    del sandbox.state.contacts[first.amocrm_contact_id]  # staff merged or deleted it in amoCRM
    second = new_lead(phone="+998901112233")

    push_lead(second.id)

    second.refresh_from_db()
    assert second.state == DeliveryState.DELIVERED
    assert second.amocrm_contact_id in sandbox.state.contacts
    assert len(deals(sandbox)) == 2
    assert Delivery.objects.get(id=first.id).amocrm_contact_id is None  # never offered again
