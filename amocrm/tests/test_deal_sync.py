"""Applying amoCRM's news to a deal's stage: won/lost by (pipeline, status), history, idempotence, stale news."""

from dataclasses import asdict
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from amocrm.api import catalog
from amocrm.models import DealStage, DealStageChange, Outcome, Settings, WebhookEvent
from amocrm.sync import stages as deal_stages
from amocrm.sync import webhooks
from amocrm.sync.webhook_payload import LeadEvent, parse
from amocrm.sync.webhooks import store
from amocrm.tasks import reconcile_deal_stages
from amocrm.tests.conftest import BASE_URL
from amocrm.tests.deal_sync_helpers import (
    DEALERS,
    DEALERS_FIRST,
    LOST,
    SALES,
    SALES_FIRST,
    SALES_NEGOTIATION,
    WON,
    delivered_lead,
    hook_body,
    pipelines_json,
    status_hook,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("limiter", "english")]
PIPELINES_URL = f"{BASE_URL}/api/v4/leads/pipelines"


@pytest.fixture
def amocrm(connected) -> Settings:
    """amoCRM lists two pipelines; new deals start in Sales / First contact."""
    connected.pipeline_id, connected.status_id = SALES, SALES_FIRST
    connected.save()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(PIPELINES_URL, json=pipelines_json())
        mock.get(f"{BASE_URL}/api/v4/leads/custom_fields", json={"_embedded": {"custom_fields": []}})
        mock.get(f"{BASE_URL}/api/v4/account", json={"id": 1, "name": "Acoustic", "subdomain": "acoustic"})
        yield connected


@pytest.fixture
def deal():
    return delivered_lead(555)


def receive(body: str) -> list[int]:
    return store(parse(body.encode()).events)


def apply(body: str) -> bool:
    return any([webhooks.apply_event(event_id) for event_id in receive(body)])


def test_it_records_a_won_deal_and_its_history(amocrm, deal):
    changed = apply(status_hook(555, SALES, WON, at=1_700_000_000))

    stage = DealStage.objects.get(delivery=deal)
    assert changed and stage.outcome == Outcome.WON and stage.label == "Won"
    assert (stage.pipeline_name, stage.status_name) == ("Sales", "Успешно реализовано")
    (change,) = DealStageChange.objects.filter(delivery=deal)
    assert (change.pipeline_id, change.status_id, change.source) == (SALES, WON, "webhook")
    assert stage.first_changed_at == stage.changed_at == change.changed_at
    assert change.changed_at.timestamp() == 1_700_000_000


@pytest.mark.parametrize(
    ("pipeline_id", "status_id", "outcome"), [(DEALERS, WON, Outcome.WON), (DEALERS, LOST, Outcome.LOST)]
)
def test_won_and_lost_hold_in_every_pipeline(amocrm, deal, pipeline_id, status_id, outcome):
    apply(status_hook(555, pipeline_id, status_id))

    stage = DealStage.objects.get(delivery=deal)
    assert stage.outcome == outcome and stage.pipeline_name == "Dealers"


def test_a_stage_in_progress_shows_its_name(amocrm, deal):
    apply(status_hook(555, SALES, SALES_NEGOTIATION))

    assert DealStage.objects.get(delivery=deal).label == "In progress: Negotiation"


def test_it_applies_an_event_once(amocrm, deal):
    (event_id,) = receive(status_hook(555, SALES, WON))
    webhooks.apply_event(event_id)

    again = webhooks.apply_event(event_id)

    assert again is False
    assert DealStageChange.objects.count() == 1
    assert WebhookEvent.objects.get().applied_at is not None


def test_status_and_update_hooks_of_one_change_make_one_history_row(amocrm, deal):
    apply(hook_body("update", 555, pipeline_id=SALES, status_id=WON, updated_at=100))

    apply(status_hook(555, SALES, WON, at=100))

    assert DealStageChange.objects.count() == 1


def test_stale_news_does_not_undo_newer_news(amocrm, deal):
    apply(status_hook(555, SALES, WON, at=200))

    apply(status_hook(555, SALES, SALES_NEGOTIATION, at=100))  # a late retry of an older webhook

    assert DealStage.objects.get(delivery=deal).status_id == WON
    assert DealStageChange.objects.count() == 1


def test_the_stage_a_deal_starts_in_is_not_a_change(amocrm, deal):
    apply(hook_body("update", 555, pipeline_id=SALES, status_id=SALES_FIRST, updated_at=100))

    stage = DealStage.objects.get(delivery=deal)
    assert stage.label == "In progress: First contact" and stage.first_changed_at is None
    assert not DealStageChange.objects.exists()


def test_an_update_to_another_stage_is_a_change(amocrm, deal):
    apply(hook_body("update", 555, pipeline_id=DEALERS, status_id=DEALERS_FIRST, updated_at=100))

    (change,) = DealStageChange.objects.all()
    assert (change.pipeline_name, change.status_name) == ("Dealers", "New request")


def test_a_deleted_deal_is_marked_and_not_in_progress(amocrm, deal):
    apply(status_hook(555, SALES, SALES_NEGOTIATION, at=100))

    apply(hook_body("delete", 555))

    stage = DealStage.objects.get(delivery=deal)
    assert stage.deleted_at is not None and stage.label == "Deleted in amoCRM"


def test_without_the_pipelines_list_the_ids_are_kept(connected, deal):
    with responses.RequestsMock() as mock:
        mock.get(PIPELINES_URL, status=503)
        apply(status_hook(555, SALES, SALES_NEGOTIATION))

    stage = DealStage.objects.get(delivery=deal)
    assert (stage.status_id, stage.status_name) == (SALES_NEGOTIATION, "")
    assert stage.label == f"In progress: #{SALES_NEGOTIATION}"


def test_stage_names_follow_renames_in_amocrm(amocrm, deal):
    apply(status_hook(555, SALES, SALES_NEGOTIATION))
    DealStage.objects.update(status_name="Old name")

    updated = deal_stages.refresh_names(catalog.load(amocrm))

    assert updated == 1 and DealStage.objects.get().status_name == "Negotiation"


def test_every_lead_merged_into_one_deal_gets_the_news(amocrm, deal):
    merged = delivered_lead(555, name="Dilnoza again")  # duplicate control merged both into deal 555

    apply(status_hook(555, SALES, WON))

    assert DealStage.objects.get(delivery=merged).outcome == Outcome.WON
    assert DealStage.objects.get(delivery=deal).outcome == Outcome.WON


def test_events_whose_task_never_ran_are_applied_later(amocrm, deal):
    receive(status_hook(555, SALES, WON))
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=5))

    applied = webhooks.apply_pending_events()

    assert applied == 1 and DealStage.objects.get().outcome == Outcome.WON


def _stored_by_an_earlier_version(modified_at: int = 999_999_999_999_999_999) -> WebhookEvent:
    """An event an earlier version stored although its time fits no date (it no longer gets past the receiver)."""
    event = LeadEvent("update", 555, SALES, WON, modified_at=modified_at)
    received_at = timezone.now() - timedelta(minutes=5)
    return WebhookEvent.objects.create(
        key=event.key, action=event.action, lead_id=event.lead_id, payload=asdict(event), received_at=received_at
    )


def test_the_deal_stage_check_goes_on_past_an_event_it_cannot_apply(amocrm, deal):
    _stored_by_an_earlier_version()
    receive(status_hook(555, SALES, WON))
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=5))

    reconcile_deal_stages()

    assert DealStage.objects.get().outcome == Outcome.WON


def test_an_event_that_cannot_be_applied_is_marked_failed(amocrm, deal):
    bad = _stored_by_an_earlier_version()

    webhooks.apply_pending_events()

    bad.refresh_from_db()
    assert bad.failed_at is not None
    assert bad.error  # what went wrong, for the admin's webhook log


def test_a_failed_event_is_not_tried_again(amocrm, deal):
    _stored_by_an_earlier_version()
    webhooks.apply_pending_events()

    assert webhooks.apply_pending_events() == 0


def test_applied_events_are_pruned_after_30_days(amocrm, deal):
    apply(status_hook(555, SALES, WON))
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=31))

    pruned = webhooks.prune()

    assert pruned == 1 and not WebhookEvent.objects.exists()
