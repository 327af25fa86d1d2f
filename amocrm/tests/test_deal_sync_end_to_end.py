"""End to end: a lead goes to the sandbox, a manager moves its deal, the sandbox's webhook reaches the live site,
and the lead list shows the new stage."""

from collections.abc import Iterator

import pytest
import requests

from acoustic.celery import app as celery_app
from amocrm.api import client
from amocrm.models import DealStage, DealStageChange, Delivery, Outcome, Settings
from amocrm.sync import subscription as webhook_subscription
from amocrm.tasks import push_lead
from amocrm.tests.deal_sync_helpers import SALES, SALES_FIRST, WON
from leads.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tasks_run_at_once() -> Iterator[None]:
    """The webhook's task runs inside the live site's request instead of waiting for a worker."""
    was = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = was


@pytest.fixture
def site(live_server, sandbox_conn, settings, tasks_run_at_once) -> Settings:
    """The live site, connected to the sandbox, with amoCRM's webhooks addressed to it."""
    settings.SITE_URL = live_server.url
    account = client.get_account(sandbox_conn)
    sandbox_conn.mark_connected(account.id, account.name)
    sandbox_conn.pipeline_id, sandbox_conn.status_id = SALES, SALES_FIRST
    sandbox_conn.save()
    return sandbox_conn


def manager_moves(sandbox, deal_id: int, status_id: int) -> None:
    """A manager's change in amoCRM (here: the sandbox's API with its own token). amoCRM's own UI does not count
    against the integration's 7 requests a second, so the sandbox's limit is off for it."""
    sandbox.set_faults(rate_limit=0)
    token = sandbox.issue_tokens()["access_token"]
    response = requests.patch(
        f"{sandbox.url}/api/v4/leads/{deal_id}", json={"status_id": status_id},
        headers={"Authorization": f"Bearer {token}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 200


def test_a_stage_changed_in_amocrm_shows_on_the_lead(site, sandbox, admin_client):
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="90 123 45 67")
    delivery = Delivery.objects.create(lead=lead)
    push_lead(delivery.id)
    delivery.refresh_from_db()
    webhook_subscription.subscribe(site)

    manager_moves(sandbox, delivery.amocrm_lead_id, WON)

    sent = sandbox.webhooks_sent(2, timeout=10)
    assert [(d.event, d.status) for d in sent] == [("status_lead", 200), ("update_lead", 200)]
    stage = DealStage.objects.get(delivery=delivery)
    assert stage.outcome == Outcome.WON and stage.status_name == "Успешно реализовано"
    assert DealStageChange.objects.get(delivery=delivery).source == "webhook"
    page = admin_client.get("/admin/leads/lead/", {"deal": "won"}).content.decode()
    assert "Dilnoza" in page
