"""Whose fault a failed attempt is: only amoCRM refusing a lead's own data parks that lead ("needs attention").

An error about the connection or the account (a 401 no refresh cures, 402, 403, a token endpoint refusal) changes
the connection's state, raises its alert and leaves every lead due, with no attempt counted against it.
"""

from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from amocrm.api import client
from amocrm.delivery import batch, failures
from amocrm.models import ConnectionState, Delivery, DeliveryState, Settings
from amocrm.tests.delivery_helpers import api_calls, configured_for_delivery, deals, new_lead

PAYMENT_REQUIRED = {"title": "Payment Required", "type": "https://httpstatus.es/402", "status": 402,
                    "detail": "Payment required"}  # fmt: skip


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    return configured_for_delivery(sandbox_conn)


@pytest.fixture
def amocrm_refuses_deals(sandbox):
    """The subscription ended: amoCRM answers 402 to every new deal and still answers reads (for 30 days)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru(sandbox.url)
        mocked.post(f"{sandbox.url}/api/v4/leads/complex", status=402, json=PAYMENT_REQUIRED)
        yield mocked


def control(sandbox, **changes) -> None:
    requests.post(f"{sandbox.url}/_sandbox/control", json=changes, timeout=5).raise_for_status()


def _due(item: Delivery) -> bool:
    return Delivery.due().filter(id=item.id).exists()


# 402 and 403: the account refuses deals; sending pauses with amoCRM's words, every lead stays due


@pytest.mark.django_db
@pytest.mark.usefixtures("amocrm_refuses_deals")
def test_a_402_on_a_lone_lead_pauses_sending_and_leaves_the_lead_due(conn):
    item = new_lead()

    batch.deliver_due()

    item.refresh_from_db()
    assert item.state != DeliveryState.NEEDS_ATTENTION
    assert _due(item)
    assert item.attempts == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("amocrm_refuses_deals")
def test_a_402_pauses_sending_with_amocrms_words(conn):
    new_lead()

    batch.deliver_due()

    assert "Payment required" in Settings.load().sending_paused_reason


@pytest.mark.django_db
@pytest.mark.usefixtures("amocrm_refuses_deals")
def test_a_402_on_a_batch_does_not_shrink_it_to_one(conn):
    items = [new_lead(phone=f"+9989013{i:05d}") for i in range(3)]

    batch.deliver_due()

    assert failures.current_batch_size() == client.MAX_BATCH
    assert Delivery.objects.filter(id__in=[d.id for d in items], state=DeliveryState.NEEDS_ATTENTION).count() == 0


@pytest.mark.django_db
def test_a_blocked_account_pauses_sending_and_leaves_the_lead_due(sandbox, conn):
    item = new_lead()
    sandbox.app.faults.blocked = True

    batch.deliver_due()

    item.refresh_from_db()
    assert Settings.load().sending_paused_reason
    assert _due(item)


# Access that no refresh can cure: the connection needs reconnecting, every lead stays due


@pytest.mark.django_db
@pytest.mark.parametrize("long_lived", [False, True], ids=["oauth", "long-lived token"])
def test_access_amocrm_no_longer_accepts_needs_reconnect_and_leaves_the_lead_due(sandbox, conn, long_lived):
    if long_lived:  # a 401 no refresh can cure
        conn.long_lived_token = sandbox.issue_tokens()["access_token"]
        conn.save()
    item = new_lead()
    control(sandbox, revoke_tokens=True)

    batch.deliver_due()

    item.refresh_from_db()
    assert Settings.load().state == ConnectionState.NEEDS_RECONNECT
    assert item.state != DeliveryState.NEEDS_ATTENTION
    assert item.attempts == 0


@pytest.mark.django_db
def test_a_token_endpoint_refusing_the_secret_needs_reconnect_and_leaves_the_lead_due(sandbox, conn):
    conn.client_secret, conn.access_token_expires_at = "not-the-secret", timezone.now()  # due for a refresh
    conn.save()
    item = new_lead()

    batch.deliver_due()

    item.refresh_from_db()
    assert Settings.load().state == ConnectionState.NEEDS_RECONNECT
    assert item.state != DeliveryState.NEEDS_ATTENTION
    assert _due(item)


# The lead's own data: only this makes "needs attention"


@pytest.mark.django_db
def test_a_lone_lead_refused_with_400_and_no_field_named_needs_attention(sandbox, conn):
    item = new_lead()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru(sandbox.url)
        mocked.post(f"{sandbox.url}/api/v4/leads/complex", status=400, json={"title": "Bad Request", "status": 400})

        batch.deliver_due()

    item.refresh_from_db()
    assert item.state == DeliveryState.NEEDS_ATTENTION


# While paused: reads do not lift the pause; one due lead every 10 minutes finds out


@pytest.mark.django_db
def test_a_successful_read_does_not_lift_a_402_pause(conn):
    conn.pause_sending("The amoCRM subscription has ended. amoCRM says: Payment required")

    client.get_account(conn)

    assert Settings.load().sending_paused_reason


@pytest.mark.django_db
def test_nothing_is_sent_while_paused_until_ten_minutes_have_passed(sandbox, conn):
    conn.pause_sending("Payment required")
    new_lead()

    batch.deliver_due()
    batch.deliver_due()

    assert api_calls(sandbox, "/api/v4/leads/complex") == []


@pytest.fixture
def paused_ten_minutes_ago(conn) -> Settings:
    """amoCRM refused deals (402) ten minutes ago: one due lead may be tried now."""
    conn.pause_sending("The amoCRM subscription has ended. amoCRM says: Payment required")
    Settings.objects.filter(pk=1).update(sending_probe_at=timezone.now() - timedelta(minutes=10, seconds=1))
    return conn


def _three_due_leads() -> list[Delivery]:
    return [new_lead(phone=f"+9989013{i:05d}") for i in range(3)]


@pytest.mark.django_db
def test_after_ten_minutes_one_due_lead_is_tried(sandbox, paused_ten_minutes_ago):
    _three_due_leads()

    batch.deliver_due()

    assert len(deals(sandbox)) == 1


@pytest.mark.django_db
def test_a_lead_that_goes_through_lifts_the_pause(paused_ten_minutes_ago):
    new_lead()

    batch.deliver_due()

    assert Settings.load().sending_paused_reason == ""


@pytest.mark.django_db
def test_a_deal_amocrm_takes_lifts_the_pause_although_its_note_then_fails(sandbox, paused_ten_minutes_ago):
    new_lead(message="Salom")
    real_add_lead_notes = client.add_lead_notes

    def notes_fail_once(conn, notes):
        sandbox.set_faults(error_next=1)
        return real_add_lead_notes(conn, notes)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(client, "add_lead_notes", notes_fail_once)
        batch.deliver_due()

    assert Settings.load().sending_paused_reason == ""


@pytest.mark.django_db
def test_the_rest_follow_once_the_pause_is_lifted(sandbox, paused_ten_minutes_ago):
    _three_due_leads()
    batch.deliver_due()

    batch.deliver_due()

    assert len(deals(sandbox)) == 3


@pytest.mark.django_db
def test_a_repeat_request_whose_note_amocrm_refuses_keeps_the_pause(sandbox, paused_ten_minutes_ago):
    item = new_lead(message="Yana savol")
    Delivery.objects.filter(id=item.id).update(repeat_of_deal_id=4242, routed_at=timezone.now())

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru(sandbox.url)
        mocked.post(f"{sandbox.url}/api/v4/leads/notes", status=402, json=PAYMENT_REQUIRED)
        batch.deliver_due()

    assert Settings.load().sending_paused_reason


@pytest.mark.django_db
@pytest.mark.usefixtures("amocrm_refuses_deals")
def test_a_refused_try_keeps_the_pause_and_the_lead_due(paused_ten_minutes_ago):
    item = new_lead()

    batch.deliver_due()

    item.refresh_from_db()
    assert Settings.load().sending_paused_reason
    assert item.attempts == 0


@pytest.mark.django_db
def test_the_sweeper_offers_one_lead_to_try_once_ten_minutes_have_passed(paused_ten_minutes_ago):
    first = _three_due_leads()[0]

    assert batch.due_batch_starts(max_batches=20) == [first.id]


@pytest.mark.django_db
@pytest.mark.usefixtures("paused_ten_minutes_ago")
def test_only_one_process_tries_a_lead_in_ten_minutes():
    first, second = Settings.claim_sending_probe(), Settings.claim_sending_probe()

    assert (first, second) == (True, False)


@pytest.mark.django_db
def test_the_wait_before_a_lead_is_tried_while_paused_is_a_setting(sandbox, conn, settings):
    settings.AMOCRM_PAUSED_TRY_MINUTES = 1
    conn.pause_sending("Payment required")
    Settings.objects.filter(pk=1).update(sending_probe_at=timezone.now() - timedelta(minutes=1, seconds=1))
    new_lead()

    batch.deliver_due()

    assert len(deals(sandbox)) == 1
