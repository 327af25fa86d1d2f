"""The delivery engine against the sandbox: one deal per lead, whatever fails on the way."""

from collections import Counter

import pytest
import requests
from django.utils import timezone

from amocrm import client, deal_payload, delivery, ratelimit
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tasks import push_lead
from leads.models import Lead

UTM_SOURCE, UTM_REFERRER, SOURCE_FIELD, PRODUCT_FIELD, MARKER_FIELD = 900_101, 900_106, 900_201, 900_202, 900_203


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    sandbox_conn.pipeline_id, sandbox_conn.status_id = _second_pipeline_stage(sandbox_conn)
    sandbox_conn.tags = "sayt"
    sandbox_conn.source_field_id, sandbox_conn.product_field_id = SOURCE_FIELD, PRODUCT_FIELD
    sandbox_conn.marker_field_id = MARKER_FIELD
    sandbox_conn.save()
    return sandbox_conn


def _second_pipeline_stage(conn: Settings) -> tuple[int, int]:
    pipeline = [p for p in client.list_pipelines(conn) if not p.is_main][0]
    return pipeline.id, [s for s in pipeline.statuses if s.type == 0][1].id


def new_lead(phone: str = "+998901234567", message: str = "", **fields) -> Delivery:
    lead = Lead.objects.create(name=fields.pop("name", "Dilnoza"), phone=phone, phone_raw=phone, message=message,
                               **fields)  # fmt: skip
    return Delivery.objects.create(lead=lead)


def drain(rounds: int = 20) -> None:
    """Run deliveries until none is due, ignoring backoff delays (the tests do not wait for the clock)."""
    for _ in range(rounds):
        lift_429_pause()
        Delivery.objects.exclude(state=DeliveryState.DELIVERED).update(next_attempt_at=timezone.now())
        if not delivery.deliver_due() and not Delivery.due().exists():
            return


def lift_429_pause() -> None:
    """A 429 pauses everybody for a minute; here that minute passes at once (the spacing stays)."""
    ratelimit._redis().client.delete(ratelimit.PAUSED_UNTIL_KEY)


def deals(sandbox) -> list:
    return list(sandbox.state.leads.values())


def api_calls(sandbox, path: str) -> list:
    return [r for r in sandbox.received(path=path) if r.method == "POST"]


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
def test_a_person_who_writes_again_gets_the_contact_we_know(sandbox, conn):
    first = new_lead(phone="+998901112233")
    push_lead(first.id)
    second = new_lead(phone="+998901112233", name="Dilnoza K.")

    push_lead(second.id)

    second.refresh_from_db()
    first.refresh_from_db()
    assert second.amocrm_contact_id == first.amocrm_contact_id
    assert len(sandbox.state.contacts) == 1
    assert len(api_calls(sandbox, "/api/v4/contacts")) == 0


@pytest.mark.django_db
def test_leads_of_one_batch_with_the_same_phone_share_one_contact(sandbox, conn):
    items = [new_lead(phone="+998901112233"), new_lead(phone="+998901112233"), new_lead(phone="+998905556677")]

    delivery.deliver_due()

    contact_ids = Counter(d.amocrm_contact_id for d in Delivery.objects.filter(id__in=[i.id for i in items]))
    assert sorted(contact_ids.values()) == [1, 2]
    assert len(sandbox.state.contacts) == 2 and len(deals(sandbox)) == 3


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
    sandbox.set_faults(drop_next=1)

    push_lead(item.id)
    item.refresh_from_db()
    assert item.state == DeliveryState.RETRYING and item.outcome_unknown
    drain()

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED
    assert len(deals(sandbox)) == 1 and item.amocrm_lead_id == deals(sandbox)[0].id


@pytest.mark.django_db
def test_a_worker_killed_mid_send_does_not_make_a_second_deal(sandbox, conn):
    item = new_lead()
    (claimed,) = Delivery.claim_due(1)
    claimed.mark_about_to_send(f"#{claimed.lead_id} deadworker01")
    fields = delivery.tracking_field_ids(conn)
    client.create_complex_leads(conn, [deal_payload.complex_lead(conn, claimed, fields, None)])  # then it died
    Delivery.objects.filter(id=item.id).update(claimed_until=timezone.now())

    drain()

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED and len(deals(sandbox)) == 1
    assert item.amocrm_lead_id == deals(sandbox)[0].id


@pytest.mark.django_db
def test_server_errors_and_429_storms_end_with_one_deal_per_lead(sandbox, conn):
    items = [new_lead(phone=f"+9989013{i:05d}", message="Salom") for i in range(30)]
    sandbox.set_faults(error_rate=0.3, seed=7, force_429_next=3)

    drain(rounds=60)

    assert Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == len(items)
    assert sorted(Counter(d.lead_id for d in Delivery.objects.all()).values()) == [1] * 30
    assert len(deals(sandbox)) == 30 and len(sandbox.state.notes) == 30


@pytest.mark.django_db
def test_an_access_token_expiring_mid_batch_is_refreshed_once(sandbox, conn):
    items = [new_lead(phone=f"+9989014{i:05d}", message="Salom") for i in range(3)]
    delivery.tracking_field_ids(conn)  # cached before the token dies
    requests.post(f"{sandbox.url}/_sandbox/control", json={"expire_tokens": True}, timeout=5).raise_for_status()

    delivery.deliver_due()

    assert Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == len(items)
    assert len(sandbox.received(path="/oauth2/access_token")) == 2  # the first exchange, then one refresh


@pytest.mark.django_db
def test_a_rejected_lead_needs_attention_with_the_field_named(sandbox, conn):
    conn.product_field_id = 123456  # no such field in the account
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
def test_it_can_find_a_contact_amocrm_already_has_for_a_new_phone(sandbox, conn):
    sandbox_contact = _create_contact_in_amocrm(conn, "+998907776655")
    conn.search_contacts_by_phone = True
    conn.save()
    item = new_lead(phone="+998907776655")

    push_lead(item.id)

    item.refresh_from_db()
    assert item.amocrm_contact_id == sandbox_contact
    assert len(sandbox.state.contacts) == 1


def _create_contact_in_amocrm(conn: Settings, phone: str) -> int:
    """A customer amoCRM knew before the site existed (created straight through the API)."""
    body = [{"name": "Old customer", "custom_fields_values": [
        {"field_code": "PHONE", "values": [{"value": phone, "enum_code": "MOB"}]}]}]  # fmt: skip
    response = requests.post(f"{conn.base_url}/api/v4/contacts", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {conn.access_token}"})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["_embedded"]["contacts"][0]["id"]
