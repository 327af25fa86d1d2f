"""Click ids to amoCRM's tracking fields, and staff's extra-field mappings, against the sandbox."""

import pytest

from amocrm.api.answers import CustomField, FieldEnum
from amocrm.api.catalog import AccountCatalog
from amocrm.delivery import deal_fields
from amocrm.delivery.deal_fields import FieldPlan
from amocrm.models import ExtraFieldMapping, Settings
from amocrm.tests.conftest import sandbox_api_session
from amocrm.tests.delivery_helpers import configured_for_delivery, deals, drain, new_lead

pytestmark = pytest.mark.django_db

BRANCHES = ["Chilonzor", "Yunusobod"]


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    return configured_for_delivery(sandbox_conn)


def _by_code(deal) -> dict[str, str]:
    return {f["field_code"]: f["values"][0]["value"] for f in deal.custom_fields_values if f["field_code"]}


def _by_id(deal) -> dict[int, dict]:
    return {f["field_id"]: f["values"][0] for f in deal.custom_fields_values}


def _new_field(sandbox, **field) -> int:
    reply = sandbox_api_session(sandbox).post(f"{sandbox.url}/api/v4/leads/custom_fields", json=[field], timeout=5)
    return reply.json()["_embedded"]["custom_fields"][0]["id"]


def test_click_and_visitor_ids_go_to_the_tracking_fields_by_their_codes(sandbox, conn):
    new_lead(gclid="g-1", yclid="y-2", fbclid="f-3", ym_uid="1700000000123", ga_client_id="GA1.2.3.4")

    drain()

    values = _by_code(deals(sandbox)[0])
    assert values["GCLID"] == "g-1"
    assert values["YCLID"] == "y-2"
    assert values["FBCLID"] == "f-3"
    assert values["_YM_UID"] == "1700000000123"
    assert values["GCLIENTID"] == "GA1.2.3.4"


def test_the_referrer_goes_to_both_referrer_fields(sandbox, conn):
    new_lead(referrer="https://google.com/")

    drain()

    values = _by_code(deals(sandbox)[0])
    assert values["REFERRER"] == "https://google.com/"
    assert values["UTM_REFERRER"] == "https://google.com/"


def test_a_tracking_code_the_account_lacks_is_not_sent():
    plan = FieldPlan(tracking={"UTM_SOURCE": 1})
    delivery = new_lead(utm_source="google", gclid="g-1")

    values = deal_fields.values(plan, delivery)

    assert values == [{"field_id": 1, "values": [{"value": "google"}]}]


def test_an_extra_field_mapped_to_a_text_field_fills_it(sandbox, conn):
    field_id = _new_field(sandbox, name="Preferred time", type="text")
    ExtraFieldMapping.objects.create(key="preferred_time", field_id=field_id)
    new_lead(extra={"preferred_time": "after 18:00", "floor": "2"})

    drain()

    assert _by_id(deals(sandbox)[0])[field_id]["value"] == "after 18:00"


def test_an_extra_field_mapped_to_a_list_fills_the_matching_choice(sandbox, conn):
    field_id = _new_field(sandbox, name="Branch", type="select", enums=[{"value": v, "sort": 1} for v in BRANCHES])
    ExtraFieldMapping.objects.create(key="branch", field_id=field_id)
    new_lead(extra={"branch": "chilonzor"})

    drain()

    assert _by_id(deals(sandbox)[0])[field_id]["value"] == "Chilonzor"


def test_a_value_that_is_no_choice_of_the_list_is_left_to_the_note(sandbox, conn):
    field_id = _new_field(sandbox, name="Branch", type="select", enums=[{"value": v, "sort": 1} for v in BRANCHES])
    ExtraFieldMapping.objects.create(key="branch", field_id=field_id)
    item = new_lead(extra={"branch": "Sergeli"})

    drain()

    item.refresh_from_db()
    assert item.state == "delivered"
    assert field_id not in _by_id(deals(sandbox)[0])
    assert "Branch: Sergeli" in next(iter(sandbox.state.notes.values())).params["text"]


def test_a_mapping_to_a_field_amocrm_no_longer_has_never_blocks_the_lead(sandbox, conn):
    ExtraFieldMapping.objects.create(key="branch", field_id=123_456)
    item = new_lead(extra={"branch": "Chilonzor"})

    drain()

    item.refresh_from_db()
    assert item.state == "delivered"
    assert 123_456 not in _by_id(deals(sandbox)[0])


def test_a_source_field_deleted_in_amocrm_is_left_out_not_sent(sandbox, conn):
    conn.source_field_id = 123_456
    conn.save()
    item = new_lead(source="callback")

    drain()

    item.refresh_from_db()
    assert item.state == "delivered"
    assert 123_456 not in _by_id(deals(sandbox)[0])


def test_a_mapping_to_a_vanished_field_is_named_with_its_reason(english):
    Settings.load()
    ExtraFieldMapping.objects.create(key="branch", field_id=123_456)
    account = _account(CustomField(1, "Source", None, "text"))

    assert deal_fields.mapping_problems(account) == [
        '"branch" is not sent: deal field #123456 no longer exists in amoCRM.'
    ]


def test_a_mapping_to_a_field_of_a_type_the_site_cannot_fill_is_named(english):
    Settings.load()
    ExtraFieldMapping.objects.create(key="visit", field_id=1)
    account = _account(CustomField(1, "Visit", None, "date"))

    assert deal_fields.mapping_problems(account) == [
        '"visit" is not sent: deal fields of type date cannot be filled from the site.'
    ]


def test_no_more_than_40_values_go_in_one_deal_and_the_marker_is_kept():
    targets = {f"k{i}": CustomField(100 + i, f"K{i}", None, "text") for i in range(40)}
    plan = FieldPlan(tracking={"UTM_SOURCE": 1, "GCLID": 2}, marker_field_id=3, source_field_id=4, mappings=targets)
    delivery = new_lead(utm_source="google", gclid="g", source="callback", extra={k: "v" for k in targets})
    delivery.marker = "#1 abc"

    values = deal_fields.values(plan, delivery)

    assert len(values) == 40
    assert values[0]["field_id"] == 3


def test_a_url_field_takes_only_a_url():
    plan = FieldPlan(mappings={"site": CustomField(7, "Site", None, "url")})

    values = deal_fields.values(plan, new_lead(extra={"site": "not a url"}))

    assert values == []


def test_a_choice_is_sent_by_its_enum_id():
    plan = FieldPlan(mappings={"branch": CustomField(7, "Branch", None, "select", (FieldEnum(70, "Chilonzor"),))})

    values = deal_fields.values(plan, new_lead(extra={"branch": "Chilonzor"}))

    assert values == [{"field_id": 7, "values": [{"enum_id": 70}]}]


def _account(*fields: CustomField) -> AccountCatalog:
    return AccountCatalog(pipelines=[], fields=list(fields), loaded_at=0)
