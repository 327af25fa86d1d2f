"""Each deal's note exactly once, against the sandbox, whatever happens to the notes request."""

import pytest

from amocrm.api import client
from amocrm.delivery import batch as delivery
from amocrm.delivery import payload as deal_payload
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tasks import push_lead
from amocrm.tests.delivery_helpers import (
    api_calls,
    configured_for_delivery,
    new_lead,
)


def lose_the_answer_to_the_first_notes_request(monkeypatch, sandbox, **fault) -> None:
    real_add_lead_notes, calls = client.add_lead_notes, []

    def add_lead_notes(conn, notes):
        if not calls:
            sandbox.set_faults(**(fault or {"drop_next": 1}))
        calls.append(notes)
        return real_add_lead_notes(conn, notes)

    monkeypatch.setattr(client, "add_lead_notes", add_lead_notes)


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    return configured_for_delivery(sandbox_conn)


@pytest.mark.django_db
def test_a_dropped_answer_to_the_notes_request_does_not_make_a_second_note(sandbox, conn, monkeypatch):
    items = [new_lead(phone=f"+9989015{i:05d}", message=f"Salom {i}") for i in range(3)]
    lose_the_answer_to_the_first_notes_request(monkeypatch, sandbox)

    delivery.deliver_due()

    assert Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == len(items)
    notes = sorted((n.entity_id, n.params["text"]) for n in sandbox.state.notes.values())
    assert [entity_id for entity_id, _ in notes] == sorted(d.amocrm_lead_id for d in Delivery.objects.all())
    assert all(text.startswith("Message: Salom") for _, text in notes)
    assert len(api_calls(sandbox, "/api/v4/leads/notes")) == 1
    assert len(sandbox.received(path="/api/v4/leads/notes", method="GET")) == 1  # one look-up for the batch


@pytest.mark.django_db
def test_a_lone_unconfirmed_note_is_looked_up_on_its_own_deal(sandbox, conn, monkeypatch):
    item = new_lead(message="Salom")
    lose_the_answer_to_the_first_notes_request(monkeypatch, sandbox)

    push_lead(item.id)

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED and len(sandbox.state.notes) == 1
    assert len(sandbox.received(path=f"/api/v4/leads/{item.amocrm_lead_id}/notes", method="GET")) == 1
    assert sandbox.received(path="/api/v4/leads/notes", method="GET") == []


@pytest.mark.django_db
def test_a_notes_request_refused_with_a_5xx_is_sent_again_after_the_look_up(sandbox, conn, monkeypatch):
    item = new_lead(message="Salom")
    lose_the_answer_to_the_first_notes_request(monkeypatch, sandbox, error_next=1)

    push_lead(item.id)

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED and item.note_sent and not item.note_outcome_unknown
    assert len(sandbox.state.notes) == 1
    assert len(api_calls(sandbox, "/api/v4/leads/notes")) == 2


@pytest.mark.django_db
def test_a_note_staff_wrote_meanwhile_is_not_taken_for_ours(sandbox, conn, monkeypatch):
    item = new_lead(message="Salom")
    real_add_lead_notes = client.add_lead_notes

    def staff_write_first_then_the_request_fails(conn, notes):
        if not sandbox.state.notes:
            real_add_lead_notes(conn, [{**notes[0], "params": {"text": "Called back, no answer"}}])
            sandbox.set_faults(error_next=1)
        return real_add_lead_notes(conn, notes)

    monkeypatch.setattr(client, "add_lead_notes", staff_write_first_then_the_request_fails)

    push_lead(item.id)

    item.refresh_from_db()
    texts = sorted(n.params["text"] for n in sandbox.state.notes.values())
    assert item.state == DeliveryState.DELIVERED
    assert texts == ["Called back, no answer", deal_payload.note_text(item.lead)]
