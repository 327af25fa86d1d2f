"""The periodic reconcile against the sandbox: stage changes that no webhook brought still arrive."""

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests

from amocrm.models import DealStage, DealStageChange, Delivery, Outcome, Settings
from amocrm.sync import reconcile
from amocrm.tasks import push_lead, reconcile_deal_stages
from amocrm.tests.conftest import sandbox_api_session
from amocrm.tests.deal_sync_helpers import SALES, SALES_FIRST, SALES_NEGOTIATION, WON
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    sandbox_conn.pipeline_id, sandbox_conn.status_id = SALES, SALES_FIRST
    sandbox_conn.save()
    return sandbox_conn


@pytest.fixture
def api(sandbox) -> requests.Session:
    """amoCRM's own UI, as it were: changes made there send no webhook (none is subscribed), and they do not count
    against the integration's 7 requests a second (the sandbox's limit is off; our own limiter still spaces ours)."""
    sandbox.set_faults(rate_limit=0)
    return sandbox_api_session(sandbox)


def delivered(conn: Settings) -> Delivery:
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="+998901234567")
    item = Delivery.objects.create(lead=lead)
    push_lead(item.id)
    item.refresh_from_db()
    return item


def test_it_pulls_a_stage_change_made_without_a_webhook(conn, api, sandbox):
    item = delivered(conn)
    reconcile.reconcile()
    api.patch(f"{api.base}/leads/{item.amocrm_lead_id}", json={"status_id": WON})

    changed = reconcile.reconcile()

    stage = DealStage.objects.get(delivery=item)
    assert changed == 1 and stage.outcome == Outcome.WON and stage.status_name == "Успешно реализовано"
    (change,) = DealStageChange.objects.filter(delivery=item)
    assert change.source == "reconcile"


def test_the_first_look_at_a_new_deal_is_not_a_change(conn, sandbox):
    item = delivered(conn)

    reconcile.reconcile()

    stage = DealStage.objects.get(delivery=item)
    assert stage.label == "In progress: First contact" and stage.first_changed_at is None
    assert not DealStageChange.objects.exists()


def test_it_asks_only_for_deals_updated_since_the_last_run(conn, sandbox):
    reconcile.reconcile()
    last_run = Settings.load().deals_reconciled_at

    reconcile.reconcile()

    query = parse_qs(sandbox.received(path="/api/v4/leads", method="GET")[-1].query)
    since = int(query["filter[updated_at][from]"][0])
    assert since == int((last_run - reconcile.RECONCILE_OVERLAP).timestamp())
    assert query["limit"] == ["250"]


def test_it_follows_every_page_and_skips_deals_of_others(conn, api, sandbox):
    sandbox.set_faults(rate_limit=0)
    others = [{"name": f"Other {i}"} for i in range(250)]
    api.post(f"{api.base}/leads", json=others)
    item = delivered(conn)  # the 251st deal: on page 2
    api.patch(f"{api.base}/leads/{item.amocrm_lead_id}", json={"status_id": SALES_NEGOTIATION})

    reconcile.reconcile()

    assert len(sandbox.received(path="/api/v4/leads", method="GET")) == 2
    assert DealStage.objects.get().delivery == item and DealStage.objects.get().status_id == SALES_NEGOTIATION


def test_it_keeps_its_place_when_amocrm_fails(conn, sandbox):
    reconcile.reconcile()
    before = Settings.load().deals_reconciled_at
    sandbox.set_faults(error_next=10, error_statuses=[502])

    changed = reconcile_deal_stages()

    assert changed == 0
    assert Settings.load().deals_reconciled_at == before


def test_the_first_run_looks_back_a_week(conn, sandbox):
    reconcile.reconcile()

    query = parse_qs(sandbox.received(path="/api/v4/leads", method="GET")[-1].query)
    since = int(query["filter[updated_at][from]"][0])
    week_ago = Settings.load().deals_reconciled_at - timedelta(days=7)
    assert abs(since - week_ago.timestamp()) < 5


def test_it_does_nothing_while_not_connected(db, sandbox):
    assert reconcile.reconcile() == 0

    assert sandbox.received(path="/api/v4/leads") == []
