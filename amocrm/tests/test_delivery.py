"""The delivery engine against the sandbox: one deal per lead, whatever fails on the way."""

import pytest
import requests
from django.utils import timezone

from amocrm.api import catalog, client, ratelimit
from amocrm.delivery import batch as delivery
from amocrm.delivery import deal_fields
from amocrm.delivery import payload as deal_payload
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tasks import push_lead
from amocrm.tests.conftest import sandbox_api_session
from amocrm.tests.delivery_helpers import (
    PRODUCT_FIELD,
    SOURCE_FIELD,
    UTM_REFERRER,
    UTM_SOURCE,
    api_calls,
    configured_for_delivery,
    deals,
    drain,
    lift_429_pause,
    new_lead,
)


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    return configured_for_delivery(sandbox_conn)


@pytest.mark.django_db
def test_it_delivers_a_lead_with_every_field(sandbox, conn):
    item = new_lead(message="Salom", email="d@example.uz", source="product_page", product_id="p-42",
                    utm_source="google", referrer="https://google.com/")  # fmt: skip

    push_lead(item.id)

    item.refresh_from_db()
    (deal,) = deals(sandbox)
    assert item.state == DeliveryState.DELIVERED and item.amocrm_lead_id == deal.id
    assert (deal.name, deal.pipeline_id, deal.status_id) == ("Yangi so'rov: Dilnoza", conn.pipeline_id, conn.status_id)
    values = {f["field_id"]: f["values"][0]["value"] for f in deal.custom_fields_values}
    assert values[UTM_SOURCE] == "google" and values[UTM_REFERRER] == "https://google.com/"
    assert (values[SOURCE_FIELD], values[PRODUCT_FIELD]) == ("product_page", "p-42")
    assert {sandbox.state.tags[t].name for t in deal.tag_ids} == {"sayt", "product_page"}
    contact = sandbox.state.contacts[item.amocrm_contact_id]
    phones = [f for f in contact.custom_fields_values if f["field_code"] == "PHONE"][0]["values"]
    assert phones[0]["value"] == "+998901234567"
    (note,) = sandbox.state.notes.values()
    assert note.entity_id == deal.id and "Salom" in note.params["text"]


@pytest.mark.django_db
def test_it_sends_a_lone_lead_in_one_complex_request_and_one_note(sandbox, conn):
    item = new_lead(message="Salom")

    push_lead(item.id)

    assert len(api_calls(sandbox, "/api/v4/leads/complex")) == 1
    assert len(api_calls(sandbox, "/api/v4/leads/notes")) == 1


@pytest.mark.django_db
def test_200_leads_queued_while_amocrm_was_unreachable_arrive_in_batches(sandbox, conn, settings):
    items = [new_lead(phone=f"+9989012{i:05d}", message="Salom" if i % 2 else "") for i in range(200)]
    real_url, settings.AMOCRM_SANDBOX_URL = settings.AMOCRM_SANDBOX_URL, "http://127.0.0.1:9"
    delivery.deliver_due()
    assert Delivery.objects.filter(state=DeliveryState.RETRYING).count() == 50

    settings.AMOCRM_SANDBOX_URL = real_url
    drain()

    assert Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == len(items)
    assert len(deals(sandbox)) == 200 and len(sandbox.state.notes) == 100
    assert len(api_calls(sandbox, "/api/v4/leads/complex")) == 4
    assert len(api_calls(sandbox, "/api/v4/leads/notes")) == 4


@pytest.mark.django_db
def test_a_dropped_answer_after_success_does_not_make_a_second_deal(sandbox, conn):
    item = new_lead()
    catalog.load(conn).tracking_field_ids()  # cached, so the next request is the complex one
    sandbox.set_faults(drop_next=1)

    push_lead(item.id)

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED
    assert len(deals(sandbox)) == 1 and item.amocrm_lead_id == deals(sandbox)[0].id
    assert len(sandbox.received(path="/api/v4/leads", method="GET")) == 1  # the look-up by marker
    assert len(api_calls(sandbox, "/api/v4/leads/complex")) == 1


@pytest.mark.django_db
def test_a_lead_whose_retry_also_fails_backs_off_and_is_looked_up_before_it_is_sent_again(sandbox, conn):
    item = new_lead()
    catalog.load(conn).tracking_field_ids()
    sandbox.set_faults(drop_next=1, error_next=2)  # the complex answer is lost, then both look-ups get a 5xx

    push_lead(item.id)
    item.refresh_from_db()
    assert item.state == DeliveryState.RETRYING and item.outcome_unknown and item.attempts == 1
    drain()

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED
    assert len(deals(sandbox)) == 1 and item.amocrm_lead_id == deals(sandbox)[0].id


@pytest.mark.django_db
def test_a_batch_tries_three_times_at_once_then_backs_off_while_amocrm_keeps_failing(sandbox, conn):
    item = new_lead()
    catalog.load(conn).tracking_field_ids()
    sandbox.set_faults(error_rate=1.0, error_statuses=[502])
    earlier = len(sandbox.received())

    push_lead(item.id)

    item.refresh_from_db()
    wait = (item.next_attempt_at - timezone.now()).total_seconds()
    assert (item.state, item.attempts) == (DeliveryState.RETRYING, 1) and 4 < wait <= 10
    sent = [(r.method, r.path) for r in sandbox.received()[earlier:]]
    assert sent == [("POST", "/api/v4/leads/complex"), ("GET", "/api/v4/leads"), ("GET", "/api/v4/leads")]


@pytest.mark.django_db
def test_a_worker_killed_mid_send_does_not_make_a_second_deal(sandbox, conn):
    item = new_lead()
    (claimed,) = Delivery.claim_due(1)
    claimed.mark_about_to_send(f"#{claimed.lead_id} deadworker01")
    fields = deal_fields.plan(conn, catalog.load(conn))
    client.create_complex_leads(conn, [deal_payload.complex_lead(conn, claimed, fields, None)])  # then it died
    Delivery.objects.filter(id=item.id).update(claimed_until=timezone.now())

    drain()

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED and len(deals(sandbox)) == 1
    assert item.amocrm_lead_id == deals(sandbox)[0].id


@pytest.mark.django_db
def test_server_errors_dropped_answers_and_429_storms_end_with_every_deal_contact_and_note_once(sandbox, conn):
    items = [new_lead(phone=f"+9989013{i:05d}", message=f"Salom {i}") for i in range(30)]
    sandbox.set_faults(error_rate=0.3, drop_rate=0.15, seed=7, force_429_next=3)

    drain(rounds=60)

    delivered = Delivery.objects.filter(state=DeliveryState.DELIVERED).select_related("lead")
    assert delivered.count() == len(items) and len(deals(sandbox)) == len(items)
    notes = {n.entity_id: n.params["text"] for n in sandbox.state.notes.values()}
    assert len(sandbox.state.notes) == len(items) and len(sandbox.state.contacts) == len(items)
    for item in delivered:
        deal = sandbox.state.leads[item.amocrm_lead_id]
        assert notes[deal.id] == deal_payload.note_text(item.lead)
        assert deal.contact_ids == [item.amocrm_contact_id]
        assert sandbox.state.contacts[item.amocrm_contact_id].name == item.lead.name


@pytest.mark.django_db
def test_an_access_token_expiring_mid_batch_is_refreshed_once(sandbox, conn):
    items = [new_lead(phone=f"+9989014{i:05d}", message="Salom") for i in range(3)]
    catalog.load(conn).tracking_field_ids()  # cached before the token dies
    requests.post(f"{sandbox.url}/_sandbox/control", json={"expire_tokens": True}, timeout=5).raise_for_status()

    delivery.deliver_due()

    assert Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == len(items)
    assert len(sandbox.received(path="/oauth2/access_token")) == 2  # the first exchange, then one refresh


@pytest.mark.django_db
def test_a_rejected_lead_needs_attention_with_the_field_named(sandbox, conn):
    field = [{"name": "Product number", "type": "numeric"}]
    numeric = sandbox_api_session(sandbox).post(f"{sandbox.url}/api/v4/leads/custom_fields", json=field, timeout=5)
    conn.product_field_id = numeric.json()["_embedded"]["custom_fields"][0]["id"]  # "p-42" is no number
    conn.save()
    item = new_lead(product_id="p-42")

    push_lead(item.id)

    item.refresh_from_db()
    assert item.state == DeliveryState.NEEDS_ATTENTION
    assert item.last_error_path.startswith("custom_fields_values.")
    assert item.last_error
    assert deals(sandbox) == []


@pytest.mark.django_db
def test_nothing_is_sent_while_the_connection_needs_reconnect(sandbox, conn):
    item = new_lead()
    conn.mark_needs_reconnect("revoked")

    push_lead(item.id)

    assert Delivery.objects.get(id=item.id).state == DeliveryState.PENDING
    assert api_calls(sandbox, "/api/v4/leads/complex") == []


@pytest.mark.django_db
def test_it_can_deliver_to_incoming_leads_with_the_form_details(sandbox, conn):
    conn.use_unsorted = True
    conn.save()
    item = new_lead(message="Salom", source="callback", page_url="https://acoustic.uz/aloqa")

    push_lead(item.id)

    item.refresh_from_db()
    (unsorted,) = sandbox.state.unsorted.values()
    assert item.state == DeliveryState.DELIVERED and item.amocrm_lead_id == unsorted.lead_id
    assert unsorted.metadata["form_page"] == "https://acoustic.uz/aloqa"
    assert unsorted.metadata["form_id"] == "callback"
    assert len(sandbox.state.notes) == 1


@pytest.mark.django_db
def test_nothing_is_claimed_while_a_429_pause_holds_every_process(sandbox, conn):
    item = new_lead()
    ratelimit.pause(60)

    push_lead(item.id)

    item.refresh_from_db()
    assert (item.state, item.attempts) == (DeliveryState.PENDING, 0)
    assert sandbox.received(path="/api/v4/leads/complex") == []
    lift_429_pause()
    push_lead(item.id)
    assert Delivery.objects.get(id=item.id).state == DeliveryState.DELIVERED


@pytest.mark.django_db
def test_a_429_makes_the_batch_wait_out_the_pause_not_a_longer_backoff(sandbox, conn):
    item = new_lead()
    Delivery.objects.filter(id=item.id).update(attempts=6)  # exponential backoff would now be 5 to 10 minutes
    catalog.load(conn).tracking_field_ids()
    sandbox.set_faults(force_429_next=1)

    push_lead(item.id)

    item.refresh_from_db()
    wait = (item.next_attempt_at - timezone.now()).total_seconds()
    assert item.state == DeliveryState.RETRYING and item.attempts == 7
    assert 55 < wait <= 60 + 5  # amoCRM's gateway gives no Retry-After: a minute, plus a little spread


@pytest.mark.django_db
def test_an_attempt_our_own_limiter_held_back_is_not_counted(sandbox, conn):
    item = new_lead()
    catalog.load(conn).tracking_field_ids()
    redis_client = ratelimit._redis().client
    seconds, micros = redis_client.time()
    redis_client.set(ratelimit.NEXT_SLOT_KEY, (seconds + 120) * 1_000_000 + micros, ex=120)  # the queue is full

    push_lead(item.id)

    item.refresh_from_db()
    assert (item.state, item.attempts) == (DeliveryState.RETRYING, 0)
    assert sandbox.received(path="/api/v4/leads/complex") == []
