"""The sandbox's API v4 writes (complex leads, notes, unsorted) and their validation, over real HTTP."""

import pytest
import requests

PHONE = {"field_code": "PHONE", "values": [{"value": "+998 90 123-45-67", "enum_code": "MOB"}]}
EMAIL = {"field_code": "EMAIL", "values": [{"value": "ann@example.com", "enum_code": "PRIV"}]}
MARKER_FIELD_ID = 900_203  # the "Site lead ID" text field


def _marker(value):
    return {"field_id": MARKER_FIELD_ID, "values": [{"value": value}]}


def _complex(contact_fields, **lead):
    return {
        "name": "Lead",
        **lead,
        "_embedded": {"contacts": [{"first_name": "Ann", "custom_fields_values": contact_fields}]},
    }


def _errors(response):
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()["validation-errors"]


def test_it_creates_complex_leads_with_their_contact(api, amocrm_sandbox):
    response = api.post(f"{api.base}/leads/complex", json=[_complex([PHONE], request_id="form-1")])

    assert response.status_code == 200
    rows = response.json()
    assert isinstance(rows, list)  # a bare array (amoCRM docs: leads-api)
    assert rows[0]["request_id"] == ["form-1"] and rows[0]["merged"] is False
    assert amocrm_sandbox.state.leads[rows[0]["id"]].contact_ids == [rows[0]["contact_id"]]


def test_it_refuses_more_than_50_complex_leads(api, amocrm_sandbox):
    response = api.post(f"{api.base}/leads/complex", json=[{"name": str(i)} for i in range(51)])

    assert response.status_code == 400  # amoCRM docs: leads-api
    assert amocrm_sandbox.state.leads == {}


def test_it_refuses_a_complex_lead_with_two_contacts(api):
    lead = {"name": "A", "_embedded": {"contacts": [{"name": "Ann"}, {"name": "Bob"}]}}

    errors = _errors(api.post(f"{api.base}/leads/complex", json=[lead]))

    assert errors[0]["errors"][0]["path"] == "_embedded.contacts"


def test_it_refuses_more_than_250_leads_in_one_create(api):
    response = api.post(f"{api.base}/leads", json=[{"name": str(i)} for i in range(251)])

    assert response.status_code == 422


def test_it_merges_a_complex_duplicate_by_phone_when_duplicate_control_is_on(api, amocrm_sandbox):
    amocrm_sandbox.config.duplicate_control = True
    first = api.post(f"{api.base}/leads/complex", json=[_complex([PHONE])]).json()[0]
    same_phone = {"field_code": "PHONE", "values": [{"value": "998901234567", "enum_code": "WORK"}]}

    second = api.post(f"{api.base}/leads/complex", json=[_complex([same_phone, EMAIL], request_id="again")]).json()

    assert second == [
        {
            "id": first["id"],
            "contact_id": first["contact_id"],
            "company_id": None,
            "request_id": ["again"],
            "merged": True,
        }
    ]
    contact = amocrm_sandbox.state.contacts[first["contact_id"]]
    assert [f["field_code"] for f in contact.custom_fields_values] == ["PHONE", "EMAIL"]


def test_it_does_not_merge_duplicates_within_one_batch(api, amocrm_sandbox):
    amocrm_sandbox.config.duplicate_control = True

    rows = api.post(f"{api.base}/leads/complex", json=[_complex([PHONE]), _complex([PHONE])]).json()

    assert len({row["id"] for row in rows}) == 2  # only against existing data (amoCRM docs: leads-api)
    assert [row["merged"] for row in rows] == [False, False]


def test_it_does_not_merge_duplicates_when_duplicate_control_is_off(api):
    first = api.post(f"{api.base}/leads/complex", json=[_complex([PHONE])]).json()[0]

    second = api.post(f"{api.base}/leads/complex", json=[_complex([PHONE])]).json()[0]

    assert second["id"] != first["id"] and second["merged"] is False


@pytest.mark.parametrize("on_lead_path", [False, True])
def test_it_adds_a_text_note_to_a_lead(api, amocrm_sandbox, on_lead_path):
    lead_id = api.post(f"{api.base}/leads", json=[{"name": "A"}]).json()["_embedded"]["leads"][0]["id"]
    note = {"note_type": "common", "params": {"text": "Called back"}}
    path, body = (f"leads/{lead_id}/notes", note) if on_lead_path else ("leads/notes", {"entity_id": lead_id, **note})

    response = api.post(f"{api.base}/{path}", json=[body])

    created = response.json()["_embedded"]["notes"][0]  # amoCRM docs: events-and-notes
    assert created["entity_id"] == lead_id and created["request_id"] == "0"
    assert created["_links"]["self"]["href"].endswith(f"/api/v4/leads/{lead_id}/notes/{created['id']}")
    assert amocrm_sandbox.state.notes[created["id"]].params == {"text": "Called back"}


def test_it_lists_lead_notes_by_type_and_time_changed_and_per_lead(api, amocrm_sandbox):
    first, second = (
        lead["id"]
        for lead in api.post(f"{api.base}/leads", json=[{"name": "A"}, {"name": "B"}]).json()["_embedded"]["leads"]
    )
    old = api.post(
        f"{api.base}/leads/notes", json=[{"entity_id": first, "note_type": "common", "params": {"text": "old"}}]
    )
    amocrm_sandbox.state.clock.advance(120)
    since = amocrm_sandbox.state.clock.timestamp()
    api.post(f"{api.base}/leads/notes", json=[
        {"entity_id": first, "note_type": "common", "params": {"text": "new"}},
        {"entity_id": second, "note_type": "service_message", "params": {"service": "Site", "text": "x"}},
    ])  # fmt: skip

    recent = api.get(
        f"{api.base}/leads/notes", params={"filter[note_type]": "common", "filter[updated_at][from]": since}
    )
    by_lead = api.get(f"{api.base}/leads/{first}/notes")

    assert recent.status_code == 200 and recent.headers["Content-Type"] == "application/hal+json"
    (note,) = recent.json()["_embedded"]["notes"]
    assert (note["entity_id"], note["note_type"], note["params"]) == (first, "common", {"text": "new"})
    assert note["_links"]["self"]["href"].endswith(f"/api/v4/leads/{first}/notes/{note['id']}")
    assert [n["params"]["text"] for n in by_lead.json()["_embedded"]["notes"]] == ["old", "new"]
    assert old.status_code == 200


def test_it_answers_204_when_no_note_matches(api):
    response = api.get(f"{api.base}/leads/notes", params={"filter[note_type][]": "call_in"})

    assert response.status_code == 204 and response.content == b""


def test_it_refuses_a_note_for_a_lead_that_does_not_exist(api):
    errors = _errors(
        api.post(f"{api.base}/leads/notes", json=[{"entity_id": 1, "note_type": "common", "params": {"text": "x"}}])
    )

    assert errors[0]["errors"][0]["path"] == "entity_id"


def test_it_creates_an_unsorted_form_lead(api, amocrm_sandbox):
    form = {
        "source_uid": "site-form",
        "source_name": "Site",
        "metadata": {"form_id": "contact", "form_name": "Contact us", "form_page": "https://x.uz/", "form_sent_at": 1},
        "_embedded": {"leads": [{"name": "From form"}], "contacts": [{"name": "Ann", "custom_fields_values": [PHONE]}]},
        "request_id": "f1",
    }

    response = api.post(f"{api.base}/leads/unsorted/forms", json=[form])

    item = response.json()["_embedded"]["unsorted"][0]  # amoCRM docs: unsorted-api
    assert item["request_id"] == "f1" and item["uid"]
    lead = amocrm_sandbox.state.leads[item["_embedded"]["leads"][0]["id"]]
    assert (
        lead.status_id
        == api.get(f"{api.base}/leads/pipelines").json()["_embedded"]["pipelines"][0]["_embedded"]["statuses"][0]["id"]
    )
    assert (
        api.get(f"{api.base}/contacts/{item['_embedded']['contacts'][0]['id']}").status_code == 204
    )  # hidden until accepted


def test_it_requires_source_and_metadata_for_unsorted_forms(api):
    errors = _errors(api.post(f"{api.base}/leads/unsorted/forms", json=[{"source_name": "Site"}]))

    assert {e["path"] for e in errors[0]["errors"]} == {"source_uid", "metadata"}


def test_it_refuses_an_empty_body(api):
    response = api.post(f"{api.base}/leads", data=b"", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["detail"] == "Request data can not be empty"  # amoCRM docs: error-codes


def test_it_refuses_a_body_that_is_not_an_array(api):
    errors = _errors(api.post(f"{api.base}/leads", json={"name": "A"}))

    assert errors[0]["errors"][0]["code"] == "InvalidType"


def test_it_refuses_lead_keys_amocrm_does_not_document(api):
    errors = _errors(api.post(f"{api.base}/leads", json=[{"name": "A", "contact_name": "Ann"}]))

    assert errors[0]["errors"][0]["path"] == "contact_name"


@pytest.mark.parametrize("field", [{"field_id": 1}, {"field_code": "UTM_NOPE"}])
def test_it_refuses_a_custom_field_the_account_does_not_have(api, field):
    lead = {"name": "A", "custom_fields_values": [{**field, "values": [{"value": "x"}]}]}

    errors = _errors(api.post(f"{api.base}/leads", json=[lead]))

    assert errors[0]["errors"][0]["code"] == "NotSupportedChoice"
    assert errors[0]["errors"][0]["path"] == f"custom_fields_values.0.{next(iter(field))}"


@pytest.mark.parametrize(("code", "wrong"), [("PHONE", "MOBILE"), ("EMAIL", "PERSONAL")])
def test_it_refuses_enum_codes_amocrm_does_not_have(api, code, wrong):
    contact_field = {"field_code": code, "values": [{"value": "x", "enum_code": wrong}]}

    errors = _errors(api.post(f"{api.base}/leads/complex", json=[_complex([contact_field], request_id="r9")]))

    # MOB not MOBILE, PRIV not PERSONAL; the error names the element and the full path
    # (amoCRM docs: custom-fields, crm_platform/error-codes).
    assert errors == [
        {
            "request_id": "r9",
            "errors": [
                {
                    "code": "NotSupportedChoice",
                    "path": "_embedded.contacts.0.custom_fields_values.0.values.0.enum_code",
                    "detail": "The value you selected is not a valid choice.",
                }
            ],
        }
    ]


def test_it_refuses_a_price_that_is_not_an_integer(api):
    errors = _errors(api.post(f"{api.base}/leads", json=[{"name": "A", "price": "100"}]))

    assert errors[0]["errors"] == [
        {"code": "InvalidType", "path": "price", "detail": "This value should be of type int."}
    ]


def test_it_refuses_a_status_from_another_pipeline(api):
    pipelines = api.get(f"{api.base}/leads/pipelines").json()["_embedded"]["pipelines"]
    other_stage = pipelines[1]["_embedded"]["statuses"][1]["id"]

    errors = _errors(
        api.post(f"{api.base}/leads", json=[{"pipeline_id": pipelines[0]["id"], "status_id": other_stage}])
    )

    assert errors[0]["errors"][0]["path"] == "status_id"


def test_it_names_only_the_failed_elements_and_creates_nothing(api, amocrm_sandbox):
    body = [{"name": "ok", "request_id": "a"}, {"name": "bad", "price": 1.5, "request_id": "b"}]

    errors = _errors(api.post(f"{api.base}/leads", json=body))

    assert [e["request_id"] for e in errors] == ["b"]
    assert amocrm_sandbox.state.leads == {}


def test_it_answers_404_problem_json_for_an_unknown_route(api):
    response = api.get(f"{api.base}/deals")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["detail"].startswith("Cannot GET ")


def test_it_answers_405_for_a_wrong_method(api):
    response = api.delete(f"{api.base}/leads")

    assert response.status_code == 405
    assert response.json()["status"] == 405


def test_it_escapes_values_on_the_overview_page(api, amocrm_sandbox):
    api.post(f"{api.base}/leads", json=[{"name": "<script>alert(1)</script>"}])

    page = requests.get(f"{amocrm_sandbox.url}/").text

    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_it_dumps_entities_and_received_requests_as_json(api, amocrm_sandbox):
    api.post(f"{api.base}/leads", json=[{"name": "A"}])

    dump = requests.get(f"{amocrm_sandbox.url}/_sandbox/state").json()

    assert [lead["name"] for lead in dump["leads"]] == ["A"]
    last = dump["requests"][-1]
    assert (last["method"], last["path"], last["status"], last["body"]) == (
        "POST",
        "/api/v4/leads",
        200,
        [{"name": "A"}],
    )
    assert last["time"] > 0
