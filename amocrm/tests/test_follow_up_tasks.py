"""Every new deal gets one follow-up task for its manager, in one request per batch, exactly once under faults."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from amocrm.delivery import batch
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tests.delivery_helpers import api_calls, configured_for_delivery, deals, drain, new_lead
from amocrm.tests.follow_up_helpers import VALIDATION_400, faulty, validation_error
from leads.models import Lead

TASHKENT = ZoneInfo("Asia/Tashkent")
MANAGER = 8_000_003  # a manager of the sandbox's account


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    conn = configured_for_delivery(sandbox_conn)
    conn.responsible_user_id, conn.follow_up_text = MANAGER, "Call {name} back: {phone}"
    conn.save()
    return conn


def tasks(sandbox) -> list:
    return list(sandbox.state.tasks.values())


def lead_at(moment: datetime, phone: str = "+998901234567") -> Delivery:
    item = new_lead(phone=phone)
    Lead.objects.filter(id=item.lead_id).update(created_at=moment)
    return Delivery.objects.select_related("lead").get(id=item.id)


@pytest.mark.django_db
def test_the_tasks_of_a_batch_go_in_one_request(sandbox, conn):
    new_lead(phone="+998901111111"), new_lead(phone="+998902222222")

    batch.deliver_due()

    assert len(api_calls(sandbox, "/api/v4/tasks")) == 1
    assert len(tasks(sandbox)) == 2


@pytest.mark.django_db
def test_each_new_deal_gets_its_task(sandbox, conn):
    item = new_lead()

    batch.deliver_due()

    item.refresh_from_db()
    assert tasks(sandbox)[0].entity_id == item.amocrm_lead_id
    assert tasks(sandbox)[0].entity_type == "leads"
    assert item.task_id == tasks(sandbox)[0].id


@pytest.mark.django_db
def test_the_task_is_for_the_deals_responsible_manager(sandbox, conn):
    new_lead()

    batch.deliver_due()

    assert tasks(sandbox)[0].responsible_user_id == MANAGER


@pytest.mark.django_db
def test_the_task_text_follows_the_template(sandbox, conn):
    new_lead(name="Dilnoza", phone="+998901234567")

    batch.deliver_due()

    assert tasks(sandbox)[0].text == "Call Dilnoza back: +998901234567"


@pytest.mark.django_db
def test_the_task_has_the_chosen_type(sandbox, conn):
    conn.follow_up_task_type_id = 2
    conn.save()
    new_lead()

    batch.deliver_due()

    assert tasks(sandbox)[0].task_type_id == 2


@pytest.mark.django_db
def test_a_night_lead_is_due_after_opening_plus_the_minutes(sandbox, conn):
    lead_at(datetime(2026, 12, 7, 22, 40, tzinfo=TASHKENT))  # a Monday night

    batch.deliver_due()

    assert tasks(sandbox)[0].complete_till == int(datetime(2026, 12, 8, 9, 15, tzinfo=TASHKENT).timestamp())


@pytest.mark.django_db
def test_a_saturday_evening_lead_is_due_on_monday(sandbox, conn):
    lead_at(datetime(2026, 12, 12, 18, 55, tzinfo=TASHKENT))

    batch.deliver_due()

    assert tasks(sandbox)[0].complete_till == int(datetime(2026, 12, 14, 9, 10, tzinfo=TASHKENT).timestamp())


@pytest.mark.django_db
def test_with_tasks_off_no_tasks_request_is_sent(sandbox, conn):
    conn.follow_up_enabled = False
    conn.save()
    item = new_lead()

    batch.deliver_due()

    item.refresh_from_db()
    assert api_calls(sandbox, "/api/v4/tasks") == []
    assert item.state == DeliveryState.DELIVERED


# Faults on the tasks request


@pytest.mark.django_db
def test_a_5xx_on_the_tasks_request_is_retried_without_a_duplicate(sandbox, conn):
    item = new_lead()

    with faulty(sandbox, "POST", "/api/v4/tasks", [(500, {"title": "Internal Server Error"})]):
        batch.deliver_due()

    item.refresh_from_db()
    assert len(tasks(sandbox)) == 1
    assert item.task_id == tasks(sandbox)[0].id


@pytest.mark.django_db
def test_a_lost_answer_is_looked_up_before_sending_again(sandbox, conn):
    item = new_lead()

    with faulty(sandbox, "POST", "/api/v4/tasks", ["lost"]):
        batch.deliver_due()

    item.refresh_from_db()
    assert len(api_calls(sandbox, "/api/v4/tasks")) == 1  # the one whose answer was lost
    assert len(tasks(sandbox)) == 1
    assert item.task_id == tasks(sandbox)[0].id


@pytest.mark.django_db
def test_a_lost_answer_leaves_the_lead_delivered(sandbox, conn):
    item = new_lead()

    with faulty(sandbox, "POST", "/api/v4/tasks", ["lost"]):
        batch.deliver_due()

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED


@pytest.mark.django_db
def test_a_task_that_keeps_failing_holds_the_lead_for_a_retry_after_its_deal(sandbox, conn):
    item = new_lead(message="Narxi qancha?")
    server_error = (503, {"title": "Service Unavailable"})

    with faulty(sandbox, "POST", "/api/v4/tasks", [server_error] * 3):
        batch.deliver_due()

    item.refresh_from_db()
    assert item.deal_created
    assert item.note_sent
    assert item.state == DeliveryState.RETRYING


@pytest.mark.django_db
def test_a_retried_task_is_sent_once_amocrm_answers(sandbox, conn):
    item = new_lead()
    with faulty(sandbox, "POST", "/api/v4/tasks", [(503, {"title": "Service Unavailable"})] * 3):
        batch.deliver_due()

    drain()

    item.refresh_from_db()
    assert len(tasks(sandbox)) == 1
    assert item.state == DeliveryState.DELIVERED


@pytest.mark.django_db
def test_a_refused_task_never_holds_the_deal_back(sandbox, conn):
    item = new_lead(message="Narxi qancha?")
    refusal = (400, validation_error(str(item.id), "task_type_id"))

    with faulty(sandbox, "POST", "/api/v4/tasks", [refusal]):
        batch.deliver_due()

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED
    assert len(deals(sandbox)) == 1
    assert item.note_sent


@pytest.mark.django_db
def test_a_refused_task_is_marked_failed_with_the_field(sandbox, conn):
    item = new_lead()
    refusal = (400, validation_error(str(item.id), "task_type_id"))

    with faulty(sandbox, "POST", "/api/v4/tasks", [refusal]):
        batch.deliver_due()

    item.refresh_from_db()
    assert "task_type_id" in item.task_error
    assert item.task_id is None


@pytest.mark.django_db
def test_only_the_refused_task_fails_and_the_others_are_sent(sandbox, conn):
    first, second = new_lead(phone="+998901111111"), new_lead(phone="+998902222222")
    refusal = (400, validation_error(str(first.id), "text"))

    with faulty(sandbox, "POST", "/api/v4/tasks", [refusal]):
        batch.deliver_due()

    second.refresh_from_db()
    assert len(tasks(sandbox)) == 1
    assert second.task_id == tasks(sandbox)[0].id


@pytest.mark.django_db
def test_a_refusal_naming_no_task_tries_each_alone(sandbox, conn):
    new_lead(phone="+998901111111"), new_lead(phone="+998902222222")

    with faulty(sandbox, "POST", "/api/v4/tasks", [(400, VALIDATION_400)]):
        batch.deliver_due()

    assert len(api_calls(sandbox, "/api/v4/tasks")) == 2  # each alone after the refusal (which never arrived)
    assert len(tasks(sandbox)) == 2
