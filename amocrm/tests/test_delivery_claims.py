from datetime import timedelta

import pytest
from django.utils import timezone

from amocrm.models import Delivery, DeliveryState
from amocrm.tasks import push_lead
from leads.dispatch import dispatch
from leads.models import Lead
from leads.signals import lead_stored

pytestmark = pytest.mark.django_db


def test_the_intake_leaves_the_delivery_to_the_leads_dispatch(client):
    response = client.post("/api/leads", {"name": "Anvar", "phone": "901234567"})

    assert response.status_code == 201 and not Delivery.objects.exists()


def test_every_dispatched_lead_gets_a_pending_delivery_and_a_push(monkeypatch, django_capture_on_commit_callbacks):
    pushed = []
    monkeypatch.setattr(push_lead, "apply_async", lambda args, retry: pushed.append(args[0]))
    lead = Lead.objects.create(name="A", phone="+998901234567", phone_raw="x", dispatch_pending=True)

    with django_capture_on_commit_callbacks(execute=True):
        dispatch(lead.id)

    delivery = Delivery.objects.get(lead=lead)
    assert delivery.state == DeliveryState.PENDING and pushed == [delivery.id]


def test_a_lead_announced_twice_still_has_one_delivery():
    lead = Lead.objects.create(name="A", phone="+998901234567", phone_raw="x")

    lead_stored.send(sender=Lead, lead=lead)
    lead_stored.send(sender=Lead, lead=lead)

    assert Delivery.objects.filter(lead=lead).count() == 1


def test_a_claim_takes_due_deliveries_once():
    for lead in [Lead.objects.create(name=f"L{i}", phone="+998901234567", phone_raw="x") for i in range(3)]:
        Delivery.objects.create(lead=lead)

    first = Delivery.claim_due(2)
    second = Delivery.claim_due(10)
    third = Delivery.claim_due(10)

    assert len(first) == 2 and len(second) == 1 and third == []
    assert {d.state for d in first + second} == {DeliveryState.SENDING}
    assert all(d.attempts == 1 for d in first + second)


def test_a_claim_puts_the_named_delivery_first():
    ids = [Delivery.objects.create(lead=Lead.objects.create(name="L", phone="+998901234567", phone_raw="x")).id
           for _ in range(3)]  # fmt: skip

    batch = Delivery.claim_due(2, first_id=ids[2])

    assert [d.id for d in batch] == [ids[0], ids[2]]


def test_a_lapsed_lease_makes_a_delivery_due_again():
    delivery = Delivery.objects.create(lead=Lead.objects.create(name="L", phone="+998901234567", phone_raw="x"))
    Delivery.claim_due(1)
    Delivery.objects.filter(id=delivery.id).update(claimed_until=timezone.now() - timedelta(seconds=1))

    again = Delivery.claim_due(1)

    assert [d.id for d in again] == [delivery.id]
    assert again[0].attempts == 2


def test_a_retry_waits_for_its_time():
    delivery = Delivery.objects.create(lead=Lead.objects.create(name="L", phone="+998901234567", phone_raw="x"))
    delivery.schedule_retry("amoCRM is down", timedelta(minutes=1))

    assert Delivery.claim_due(10) == []
    assert Delivery.objects.get().state == DeliveryState.RETRYING
