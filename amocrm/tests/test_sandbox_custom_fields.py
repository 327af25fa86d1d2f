"""Creating custom fields (POST /api/v4/leads/custom_fields) in the sandbox, and writing values to them.

Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
"""

import pytest
import requests

from amocrm.sandbox import SandboxConfig, SandboxServer
from amocrm.tests.conftest import sandbox_api_session


def _create(api, *fields, entity="leads"):
    response = api.post(f"{api.base}/{entity}/custom_fields", json=list(fields))
    assert response.status_code == 201, response.text
    return response.json()["_embedded"]["custom_fields"]


def _lead_values(api, *values):
    response = api.post(f"{api.base}/leads", json=[{"name": "Deal", "custom_fields_values": list(values)}])
    assert response.status_code == 200, response.text
    lead_id = response.json()["_embedded"]["leads"][0]["id"]
    return api.get(f"{api.base}/leads/{lead_id}").json()["custom_fields_values"]


def _errors(response):
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()["validation-errors"]


def _select():
    enums = [{"value": "Phonak", "sort": 1, "code": "PHONAK"}, {"value": "Oticon", "sort": 2}]
    return {"name": "Brand", "type": "select", "enums": enums}


def test_it_creates_a_field_answering_201_with_the_field_and_its_request_id(api):
    response = api.post(f"{api.base}/leads/custom_fields", json=[{"name": "Clinic", "type": "text", "code": "CLINIC"}])

    body = response.json()
    created = body["_embedded"]["custom_fields"][0]
    assert response.status_code == 201  # the docs' answer code for this call (also Kommo's example)
    assert body["_total_items"] == 1
    assert (created["name"], created["type"], created["code"], created["request_id"]) == (
        "Clinic",
        "text",
        "CLINIC",
        "0",
    )
    assert created["id"] > 0


def test_it_lists_a_created_field_with_the_accounts_own(api):
    [created] = _create(api, {"name": "Clinic", "type": "text", "is_api_only": True})

    fields = api.get(f"{api.base}/leads/custom_fields", params={"limit": 250}).json()

    listed = {f["id"]: f for f in fields["_embedded"]["custom_fields"]}
    assert fields["_total_items"] == 16  # the account's 15 and the new one
    assert listed[created["id"]]["is_api_only"] is True


def test_it_accepts_values_for_a_created_field_by_id_and_by_code(api):
    [clinic] = _create(api, {"name": "Clinic", "type": "text", "code": "CLINIC"})

    by_id = _lead_values(api, {"field_id": clinic["id"], "values": [{"value": "Chilonzor"}]})
    by_code = _lead_values(api, {"field_code": "CLINIC", "values": [{"value": "Yunusobod"}]})

    assert by_id[0]["values"] == [{"value": "Chilonzor"}]
    assert by_code[0]["field_id"] == clinic["id"]


def test_it_gives_the_enums_of_a_list_field_ids(api):
    [brand] = _create(api, _select())

    assert [(e["value"], e["code"]) for e in brand["enums"]] == [("Phonak", "PHONAK"), ("Oticon", None)]
    assert all(e["id"] > 0 for e in brand["enums"])


@pytest.mark.parametrize("pick", ["enum_id", "enum_code", "value"])
def test_it_accepts_a_list_value_by_enum_id_code_or_text(api, pick):
    [brand] = _create(api, _select())
    phonak = brand["enums"][0]
    choice = {"enum_id": phonak["id"], "enum_code": "PHONAK", "value": "Phonak"}[pick]

    [stored] = _lead_values(api, {"field_id": brand["id"], "values": [{pick: choice}]})

    assert stored["values"] == [{"value": "Phonak", "enum_id": phonak["id"], "enum_code": "PHONAK"}]


def test_it_refuses_a_list_value_that_is_not_among_its_enums(api):
    [brand] = _create(api, _select())

    response = api.post(
        f"{api.base}/leads", json=[{"custom_fields_values": [{"field_id": brand["id"], "values": [{"value": "Acme"}]}]}]
    )

    assert _errors(response)[0]["errors"][0]["path"] == "custom_fields_values.0.values.0.value"


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ({"type": "numeric"}, "12.5", "12.5"),
        ({"type": "checkbox"}, True, True),
        ({"type": "date"}, "2026-01-02T00:00:00+00:00", 1_767_312_000),
        ({"type": "date_time"}, 1_767_312_000, 1_767_312_000),
    ],
)
def test_it_stores_typed_values(api, field, value, stored):
    [created] = _create(api, {"name": "Typed", **field})

    [got] = _lead_values(api, {"field_id": created["id"], "values": [{"value": value}]})

    assert got["values"] == [{"value": stored}]


@pytest.mark.parametrize(("kind", "value"), [("numeric", "twelve"), ("checkbox", "yes"), ("date", "tomorrow")])
def test_it_refuses_a_value_of_the_wrong_type(api, kind, value):
    [created] = _create(api, {"name": "Typed", "type": kind})

    response = api.post(
        f"{api.base}/leads",
        json=[{"custom_fields_values": [{"field_id": created["id"], "values": [{"value": value}]}]}],
    )

    assert _errors(response)[0]["errors"][0]["code"] == "InvalidType"


def test_it_refuses_a_code_the_account_already_has(api, amocrm_sandbox):
    response = api.post(f"{api.base}/leads/custom_fields", json=[{"name": "UTM", "type": "text", "code": "UTM_SOURCE"}])

    assert [(e["path"], e["code"]) for e in _errors(response)[0]["errors"]] == [("code", "NotUnique")]
    assert amocrm_sandbox.state.custom_fields == {}


def test_it_refuses_a_code_sent_twice_in_one_call_naming_the_second(api):
    fields = [{"name": "A", "type": "text", "code": "SAME"}, {"name": "B", "type": "text", "code": "SAME"}]

    failed = _errors(api.post(f"{api.base}/leads/custom_fields", json=fields))

    assert [item["request_id"] for item in failed] == ["1"]


def test_it_lets_another_entity_use_the_same_code(api):
    _create(api, {"name": "Clinic", "type": "text", "code": "CLINIC"})

    assert _create(api, {"name": "Clinic", "type": "text", "code": "CLINIC"}, entity="contacts")[0]["code"] == "CLINIC"


@pytest.mark.parametrize(
    ("field", "path", "code"),
    [
        ({"type": "text"}, "name", "FieldMissing"),
        ({"name": "A"}, "type", "FieldMissing"),
        ({"name": "A", "type": "hologram"}, "type", "NotSupportedChoice"),
        ({"name": "A", "type": "select"}, "enums", "FieldMissing"),
        ({"name": "A", "type": "text", "enums": [{"value": "x", "sort": 1}]}, "enums", "FieldNotExpected"),
        ({"name": "A", "type": "text", "sort": "1"}, "sort", "InvalidType"),
        ({"name": "A", "type": "text", "colour": "red"}, "colour", "FieldNotExpected"),
        ({"name": "A", "type": "text", "required_statuses": [{"pipeline_id": 1, "status_id": 2}]},
         "required_statuses.0", "NotSupportedChoice"),
    ],
)  # fmt: skip
def test_it_refuses_a_bad_field_with_the_path(api, field, path, code):
    response = api.post(f"{api.base}/leads/custom_fields", json=[field])

    assert [(e["path"], e["code"]) for e in _errors(response)[0]["errors"]] == [(path, code)]


def test_it_creates_tracking_fields_on_deals_only(api):
    field = {"name": "UTM_LANDING", "type": "tracking_data", "code": "UTM_LANDING"}

    assert _create(api, field)[0]["type"] == "tracking_data"
    assert api.post(f"{api.base}/contacts/custom_fields", json=[field]).status_code == 400


def test_it_refuses_field_creation_with_403_when_a_non_admin_connected(api, amocrm_sandbox):
    requests.post(f"{amocrm_sandbox.url}/_sandbox/control", json={"connected_by_admin": False})

    response = api.post(f"{api.base}/leads/custom_fields", json=[{"name": "Clinic", "type": "text"}])

    assert response.status_code == 403
    assert amocrm_sandbox.state.custom_fields == {}


def test_it_keeps_created_fields_in_the_state_file(tmp_path):
    config = SandboxConfig(state_file=str(tmp_path / "state.json"))
    with SandboxServer(config) as server:
        api = sandbox_api_session(server)
        [created] = _create(api, _select())

    with SandboxServer(SandboxConfig(state_file=str(tmp_path / "state.json"))) as restarted:
        fields = {f.id: f for f in restarted.state.fields("leads")}

    assert [e.value for e in fields[created["id"]].enums] == ["Phonak", "Oticon"]
