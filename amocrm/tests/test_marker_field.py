"""The site's own deal field for the delivery marker: found or made once, a refusal never blocking a delivery."""

import json

import pytest
import responses
from django.utils import timezone

from amocrm.api import catalog, client
from amocrm.delivery import deal_fields, marker_field
from amocrm.delivery import payload as deal_payload
from amocrm.delivery.deal_fields import FieldPlan
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tests.conftest import BASE_URL
from amocrm.tests.delivery_helpers import MARKER_FIELD, configured_for_delivery, deals, drain, new_lead

FIELDS_URL = f"{BASE_URL}/api/v4/leads/custom_fields"
SOURCE = {"id": 11, "name": "Source", "code": None, "type": "text"}


def _account_lists(*fields: dict) -> None:
    responses.get(f"{BASE_URL}/api/v4/leads/pipelines", json={"_embedded": {"pipelines": []}})
    responses.get(FIELDS_URL, json={"_embedded": {"custom_fields": list(fields)}})
    responses.get(f"{BASE_URL}/api/v4/users", json={"_embedded": {"users": []}})  # the catalog reads users too


def _created(field_id: int) -> dict:
    return {"_embedded": {"custom_fields": [{"id": field_id, "name": "Site lead ID", "type": "text", "code": None}]}}


def _posts() -> list:
    return [call for call in responses.calls if call.request.method == "POST"]


@responses.activate
def test_it_creates_the_field_when_the_account_has_none(connected, limiter):
    _account_lists(SOURCE)
    responses.post(FIELDS_URL, json=_created(4242), status=201)

    marker_field.ensure(connected, now=True)

    assert Settings.load().marker_field_id == 4242


@responses.activate
def test_it_creates_an_api_only_text_field_named_site_lead_id(connected, limiter):
    _account_lists(SOURCE)
    responses.post(FIELDS_URL, json=_created(4242), status=201)

    marker_field.ensure(connected, now=True)

    (sent,) = json.loads(_posts()[0].request.body)
    assert (sent["name"], sent["type"], sent["is_api_only"]) == ("Site lead ID", "text", True)


@responses.activate
def test_it_creates_the_field_once_and_then_reuses_it(connected, limiter):
    created = {"id": 4242, "name": "Site lead ID", "type": "text"}
    _account_lists(SOURCE)
    responses.post(FIELDS_URL, json={"_embedded": {"custom_fields": [created]}}, status=201)
    marker_field.ensure(connected, now=True)
    responses.get(FIELDS_URL, json={"_embedded": {"custom_fields": [SOURCE, created]}})

    marker_field.ensure(Settings.load(), now=True)

    assert len(_posts()) == 1
    assert Settings.load().marker_field_id == 4242


@responses.activate
def test_it_reuses_a_field_of_that_name_the_account_already_has(connected, limiter):
    _account_lists(SOURCE, {"id": 77, "name": "Site lead ID", "code": None, "type": "text"})

    marker_field.ensure(connected, now=True)

    assert Settings.load().marker_field_id == 77
    assert _posts() == []


@responses.activate
def test_a_refusal_leaves_the_marker_to_the_name_and_says_why(connected, limiter, english):
    _account_lists(SOURCE)
    responses.post(FIELDS_URL, json={"title": "Forbidden", "status": 403, "detail": "No rights"}, status=403)

    marker_field.ensure(connected, now=True)

    conn = Settings.load()
    assert conn.marker_field_id is None
    assert 'create its deal field "Site lead ID"' in conn.marker_field_problem
    assert conn.last_error == ""  # not the connection's fault: nothing on the connection panel
    assert conn.sending_paused_reason == ""


@responses.activate
def test_after_a_refusal_deliveries_ask_again_only_once_an_hour(connected, limiter):
    _account_lists(SOURCE)
    responses.post(FIELDS_URL, json={"title": "Forbidden", "status": 403}, status=403)
    marker_field.ensure(connected, now=True)

    marker_field.ensure(Settings.load())

    assert len(_posts()) == 1


@responses.activate
def test_amocrm_being_unreachable_is_no_refusal(connected, limiter):
    _account_lists(SOURCE)
    responses.post(FIELDS_URL, json={"title": "Bad Gateway"}, status=502)

    marker_field.ensure(connected, now=True)

    assert Settings.load().marker_field_problem == ""


@responses.activate
def test_a_stored_field_deleted_in_amocrm_is_made_again(connected, limiter):
    connected.marker_field_id = 4242
    connected.save()
    _account_lists(SOURCE)
    responses.post(FIELDS_URL, json=_created(5353), status=201)

    marker_field.ensure(connected)

    assert Settings.load().marker_field_id == 5353


# Against the sandbox, whose account has a "Site lead ID" text field (MARKER_FIELD)


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    conn = configured_for_delivery(sandbox_conn)
    conn.marker_field_id = None
    conn.save()
    return conn


@pytest.mark.django_db
def test_a_setup_without_connect_finds_the_field_before_its_first_delivery(sandbox, conn):
    item = new_lead()

    drain()

    item.refresh_from_db()
    (deal,) = deals(sandbox)
    assert Settings.load().marker_field_id == MARKER_FIELD
    assert deal.name == "Yangi so'rov: Dilnoza"
    assert {f["field_id"]: f["values"][0]["value"] for f in deal.custom_fields_values}[MARKER_FIELD] == item.marker


@pytest.mark.django_db
def test_a_deal_named_with_its_marker_before_the_field_existed_is_still_found(sandbox, conn):
    item = new_lead()
    (claimed,) = Delivery.claim_due(1)
    claimed.mark_about_to_send(f"#{claimed.lead_id} oldworker001")
    fields = deal_fields.plan(conn, catalog.load(conn))
    old_style = FieldPlan(tracking=fields.tracking)  # no marker field yet: the marker went in the name
    client.create_complex_leads(conn, [deal_payload.complex_lead(conn, claimed, old_style, None)])  # then it died
    Delivery.objects.filter(id=item.id).update(claimed_until=timezone.now())
    Settings.objects.update(marker_field_id=MARKER_FIELD)  # staff connected meanwhile: the field is found

    drain()

    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED
    assert len(deals(sandbox)) == 1
    assert item.amocrm_lead_id == deals(sandbox)[0].id
