"""A repeat request joins its contact's open deal in the pipeline it would go to: a note, the tag, a new task."""

import pytest

from amocrm.api import client
from amocrm.delivery import batch
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tests.delivery_helpers import api_calls, configured_for_delivery, deals, new_lead
from amocrm.tests.follow_up_helpers import faulty, validation_error

FIRST_MANAGER, SECOND_MANAGER = 8_000_002, 8_000_003
WON, LOST = 142, 143


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    conn = configured_for_delivery(sandbox_conn)
    conn.responsible_user_id = FIRST_MANAGER
    conn.save()
    return conn


@pytest.fixture
def open_deal(sandbox, conn) -> Delivery:
    """The person's first request, delivered: a new deal for the first manager; the settings then name another."""
    first = new_lead(phone="+998901234567", email="dilnoza@example.com", message="Narxi qancha?")
    batch.deliver_due()
    conn.responsible_user_id = SECOND_MANAGER
    conn.save()
    first.refresh_from_db()
    return first


def set_status(sandbox, deal_id: int, status_id: int, pipeline_id: int) -> None:
    """Staff moved the deal in amoCRM (straight into the sandbox's state: no request against the rate limit)."""
    with sandbox.state.lock:
        deal = sandbox.state.leads[deal_id]
        deal.status_id, deal.pipeline_id = status_id, pipeline_id


def notes_on(sandbox, deal_id: int) -> list:
    return [n for n in sandbox.state.notes.values() if n.entity_id == deal_id]


def tag_names(sandbox, deal_id: int) -> set[str]:
    return {sandbox.state.tags[tag_id].name for tag_id in sandbox.state.leads[deal_id].tag_ids}


@pytest.mark.django_db
def test_a_repeat_request_makes_no_second_deal(sandbox, conn, open_deal):
    new_lead(phone="+998901234567", message="Yana savol")

    batch.deliver_due()

    assert len(deals(sandbox)) == 1


@pytest.mark.django_db
def test_a_repeat_request_is_recorded_as_joining_the_open_deal(sandbox, conn, open_deal):
    repeat = new_lead(phone="+998901234567")

    batch.deliver_due()

    repeat.refresh_from_db()
    assert repeat.repeat_of_deal_id == open_deal.amocrm_lead_id
    assert repeat.amocrm_lead_id == open_deal.amocrm_lead_id
    assert repeat.state == DeliveryState.DELIVERED


@pytest.mark.django_db
def test_a_repeat_request_becomes_a_note_on_the_open_deal(sandbox, conn, open_deal):
    new_lead(phone="+998901234567", message="Yana savol")

    batch.deliver_due()

    texts = [n.params["text"] for n in notes_on(sandbox, open_deal.amocrm_lead_id)]
    assert len(texts) == 2
    assert texts[1].startswith("Repeat request\n")
    assert "Yana savol" in texts[1]


@pytest.mark.django_db
def test_a_repeat_request_without_a_message_still_leaves_a_note(sandbox, conn, open_deal):
    new_lead(phone="+998901234567")

    batch.deliver_due()

    assert len(notes_on(sandbox, open_deal.amocrm_lead_id)) == 2


@pytest.mark.django_db
def test_the_open_deal_gains_the_repeat_tag_and_keeps_its_tags(sandbox, conn, open_deal):
    new_lead(phone="+998901234567")

    batch.deliver_due()

    assert "repeat" in tag_names(sandbox, open_deal.amocrm_lead_id)
    assert "sayt" in tag_names(sandbox, open_deal.amocrm_lead_id)


@pytest.mark.django_db
def test_the_new_task_goes_to_the_manager_of_the_open_deal(sandbox, conn, open_deal):
    repeat = new_lead(phone="+998901234567")

    batch.deliver_due()

    repeat.refresh_from_db()
    task = sandbox.state.tasks[repeat.task_id]
    assert task.responsible_user_id == FIRST_MANAGER
    assert task.entity_id == open_deal.amocrm_lead_id


@pytest.mark.django_db
@pytest.mark.parametrize("closed", [WON, LOST])
def test_a_closed_deal_gets_a_new_deal_instead(sandbox, conn, open_deal, closed):
    set_status(sandbox, open_deal.amocrm_lead_id, closed, conn.pipeline_id)
    repeat = new_lead(phone="+998901234567")

    batch.deliver_due()

    repeat.refresh_from_db()
    assert len(deals(sandbox)) == 2
    assert repeat.repeat_of_deal_id is None


@pytest.mark.django_db
def test_an_open_deal_in_another_pipeline_gets_a_new_deal_instead(sandbox, conn, open_deal):
    main = next(p for p in client.list_pipelines(conn) if p.is_main)
    set_status(sandbox, open_deal.amocrm_lead_id, main.statuses[1].id, main.id)
    repeat = new_lead(phone="+998901234567")

    batch.deliver_due()

    repeat.refresh_from_db()
    assert len(deals(sandbox)) == 2
    assert repeat.repeat_of_deal_id is None


@pytest.mark.django_db
def test_with_the_setting_off_a_repeat_request_gets_a_new_deal(sandbox, conn, open_deal):
    conn.repeat_joins_open_deal = False
    conn.save()
    new_lead(phone="+998901234567")

    batch.deliver_due()

    assert len(deals(sandbox)) == 2


@pytest.mark.django_db
def test_a_new_person_costs_no_look_up(sandbox, conn):
    new_lead(phone="+998905550000")

    batch.deliver_due()

    assert [r for r in sandbox.received(path="/api/v4/contacts") if r.method == "GET"] == []


# What the contact gains


def contact_values(sandbox, contact_id: int, code: str) -> list[str]:
    fields = sandbox.state.contacts[contact_id].custom_fields_values or []
    return [v["value"] for f in fields if f.get("field_code") == code for v in f["values"]]


@pytest.mark.django_db
def test_a_repeat_contact_gains_a_new_email_and_keeps_its_phone(sandbox, conn, open_deal):
    new_lead(phone="+998901234567", email="dilnoza.new@example.com")

    batch.deliver_due()

    assert contact_values(sandbox, open_deal.amocrm_contact_id, "EMAIL") == [
        "dilnoza@example.com", "dilnoza.new@example.com"]  # fmt: skip
    assert contact_values(sandbox, open_deal.amocrm_contact_id, "PHONE") == ["+998901234567"]


@pytest.mark.django_db
def test_a_repeat_contact_found_by_email_gains_a_second_phone(sandbox, conn, open_deal):
    new_lead(phone="+998907654321", email="dilnoza@example.com")

    batch.deliver_due()

    assert contact_values(sandbox, open_deal.amocrm_contact_id, "PHONE") == ["+998901234567", "+998907654321"]


@pytest.mark.django_db
def test_the_contacts_of_a_batch_gain_in_one_update(sandbox, conn, open_deal):
    new_lead(phone="+998907654321", email="dilnoza@example.com"), new_lead(phone="+998901234567", email="d@x.uz")

    batch.deliver_due()

    assert len([r for r in sandbox.received(path="/api/v4/contacts") if r.method == "PATCH"]) == 1
    assert contact_values(sandbox, open_deal.amocrm_contact_id, "EMAIL") == ["dilnoza@example.com", "d@x.uz"]
    assert contact_values(sandbox, open_deal.amocrm_contact_id, "PHONE") == ["+998901234567", "+998907654321"]


@pytest.mark.django_db
def test_a_contact_with_nothing_new_is_not_updated(sandbox, conn, open_deal):
    new_lead(phone="+998901234567", email="dilnoza@example.com")

    batch.deliver_due()

    assert [r for r in sandbox.received(path="/api/v4/contacts") if r.method == "PATCH"] == []


@pytest.mark.django_db
def test_a_refused_contact_update_never_holds_the_lead_back(sandbox, conn, open_deal):
    repeat = new_lead(phone="+998901234567", email="dilnoza.new@example.com")
    refusal = (400, validation_error("0", "custom_fields_values.0.values.1.value"))

    with faulty(sandbox, "PATCH", "/api/v4/contacts", [refusal]):
        batch.deliver_due()

    repeat.refresh_from_db()
    assert repeat.state == DeliveryState.DELIVERED
    assert repeat.contact_update_error != ""
    assert repeat.task_id is not None


@pytest.mark.django_db
def test_a_contact_update_that_fails_in_passing_is_retried(sandbox, conn, open_deal):
    repeat = new_lead(phone="+998901234567", email="dilnoza.new@example.com")
    server_error = (503, {"title": "Service Unavailable"})
    with faulty(sandbox, "PATCH", "/api/v4/contacts", [server_error] * 3):
        batch.deliver_due()

    Delivery.objects.filter(id=repeat.id).update(next_attempt_at=repeat.created_at)
    batch.deliver_due()

    repeat.refresh_from_db()
    assert repeat.state == DeliveryState.DELIVERED
    assert "dilnoza.new@example.com" in contact_values(sandbox, open_deal.amocrm_contact_id, "EMAIL")
    assert len(api_calls(sandbox, "/api/v4/tasks")) == 2  # the first deal's and the repeat's: none sent twice


@pytest.mark.django_db
def test_a_retried_repeat_request_is_not_looked_up_again_nor_made_a_deal(sandbox, conn, open_deal):
    repeat = new_lead(phone="+998901234567")
    with faulty(sandbox, "POST", "/api/v4/leads/notes", [(503, {"title": "Service Unavailable"})] * 3):
        batch.deliver_due()

    Delivery.objects.filter(id=repeat.id).update(next_attempt_at=repeat.created_at)
    batch.deliver_due()

    repeat.refresh_from_db()
    assert repeat.state == DeliveryState.DELIVERED
    assert len([r for r in sandbox.received(path="/api/v4/contacts") if r.method == "GET"]) == 1
    assert len(deals(sandbox)) == 1
