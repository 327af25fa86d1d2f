"""Dispatching: lead_stored is sent once per stored lead, by a worker; a failure leaves the lead for the next run."""

import threading

import pytest
from django.db import connection

from leads.dispatch import dispatch, dispatch_waiting
from leads.models import Lead
from leads.signals import lead_stored

pytestmark = pytest.mark.django_db


def waiting_lead(name: str = "Anvar") -> Lead:
    """A lead as the intake leaves it: stored, its dispatch still to come."""
    return Lead.objects.create(name=name, phone="+998901234567", phone_raw="90 123 45 67", dispatch_pending=True)


@pytest.fixture
def failing_for():
    """Make the receivers fail for the leads whose ids are added to the returned set."""
    ids = set()

    def receiver(sender, lead, **kwargs):
        if lead.id in ids:
            raise RuntimeError("a receiver's bug")

    lead_stored.connect(receiver)
    yield ids
    lead_stored.disconnect(receiver)


def test_it_sends_lead_stored_and_clears_the_mark(received):
    lead = waiting_lead()

    sent = dispatch(lead.id)

    assert sent and received == [lead.id]
    assert not Lead.objects.get(id=lead.id).dispatch_pending


def test_dispatching_twice_sends_lead_stored_once(received):
    lead = waiting_lead()

    results = [dispatch(lead.id), dispatch(lead.id)]

    assert results == [True, False] and received == [lead.id]


def test_it_leaves_a_lead_that_was_never_waiting_alone(received):
    lead = Lead.objects.create(name="Anvar", phone="+998901234567", phone_raw="x")  # not through the intake

    assert dispatch(lead.id) is False and received == []


def test_a_failing_receiver_leaves_the_lead_waiting(failing_for):
    lead = waiting_lead()
    failing_for.add(lead.id)

    with pytest.raises(RuntimeError):
        dispatch(lead.id)

    assert Lead.objects.get(id=lead.id).dispatch_pending


def test_a_run_dispatches_every_waiting_lead_oldest_first(received):
    leads = [waiting_lead(f"L{n}") for n in range(3)]
    Lead.objects.create(name="Dispatched", phone="+998901234567", phone_raw="x")

    count = dispatch_waiting()

    assert count == 3 and received == [lead.id for lead in leads]


def test_a_run_goes_on_past_a_lead_whose_receiver_fails(received, failing_for, caplog):
    broken, fine = waiting_lead("Broken"), waiting_lead("Fine")
    failing_for.add(broken.id)

    count = dispatch_waiting()

    assert count == 1 and fine.id in received
    assert Lead.objects.get(id=broken.id).dispatch_pending
    assert f"Could not dispatch lead {broken.id}" in caplog.text


def test_a_run_gets_through_a_backlog_longer_than_a_page(received, monkeypatch, failing_for):
    monkeypatch.setattr("leads.dispatch.BATCH", 2)
    leads = [waiting_lead(f"L{n}") for n in range(5)]
    failing_for.update({leads[0].id, leads[1].id})  # a whole page that keeps failing

    count = dispatch_waiting()

    assert count == 3 and received[-3:] == [lead.id for lead in leads[2:]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between workers: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_workers_dispatching_at_once_send_lead_stored_once_per_lead(received):
    leads = [waiting_lead(f"L{n}") for n in range(40)]
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        try:
            dispatch_waiting()
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(received) == [lead.id for lead in leads]
