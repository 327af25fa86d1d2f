"""The default route: the settings page decides where a lead goes, once, before its deal is created."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from amocrm.delivery import routing
from amocrm.models import Delivery, Settings
from leads.models import Lead

pytestmark = pytest.mark.django_db
TASHKENT = ZoneInfo("Asia/Tashkent")


@pytest.fixture
def conn() -> Settings:
    conn = Settings.load()
    conn.pipeline_id, conn.status_id, conn.responsible_user_id, conn.tags = 11, 22, 33, "sayt"
    conn.save()
    return conn


@pytest.fixture
def delivery() -> Delivery:
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="901234567", source="callback")
    Lead.objects.filter(id=lead.id).update(created_at=datetime(2026, 12, 7, 22, 40, tzinfo=TASHKENT))
    return Delivery.objects.create(lead=Lead.objects.get(id=lead.id))


def test_it_records_the_settings_pipeline_and_stage(conn, delivery):
    routing.assign(conn, [delivery])

    delivery.refresh_from_db()
    assert (delivery.pipeline_id, delivery.status_id) == (11, 22)


def test_it_tags_the_deal_with_the_settings_tags_and_the_source(conn, delivery):
    routing.assign(conn, [delivery])

    delivery.refresh_from_db()
    assert delivery.tag_names() == ["sayt", "callback"]


def test_it_writes_the_follow_up_text_from_the_template(conn, delivery):
    routing.assign(conn, [delivery])

    delivery.refresh_from_db()
    assert delivery.follow_up_text == "Dilnoza ga qayta qo'ng'iroq qiling: +998901234567"


def test_a_night_lead_is_due_after_opening(conn, delivery):
    routing.assign(conn, [delivery])

    delivery.refresh_from_db()
    assert delivery.follow_up_due_at == datetime(2026, 12, 8, 9, 15, tzinfo=TASHKENT)


def test_no_task_is_planned_when_follow_ups_are_off(conn, delivery):
    conn.follow_up_enabled = False

    routing.assign(conn, [delivery])

    delivery.refresh_from_db()
    assert delivery.follow_up_due_at is None


def test_a_manager_who_owns_the_open_deal_keeps_the_lead(conn, delivery):
    routing.assign(conn, [delivery], owners={delivery.id: 44})

    delivery.refresh_from_db()
    assert delivery.responsible_user_id == 44


def test_a_routed_delivery_is_never_routed_again(conn, delivery):
    routing.assign(conn, [delivery])
    conn.pipeline_id = 99

    routing.assign(conn, [delivery])

    delivery.refresh_from_db()
    assert delivery.pipeline_id == 11


def test_a_mistyped_task_template_still_names_the_lead(conn, delivery):
    conn.follow_up_text = "Call {nme}"

    routing.assign(conn, [delivery])

    delivery.refresh_from_db()
    assert delivery.follow_up_text == "Dilnoza: +998901234567"
