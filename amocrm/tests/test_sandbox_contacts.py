"""The sandbox's contacts with their deals, and changing contacts (PATCH /api/v4/contacts[/{id}]), over real HTTP.

Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api
"""

import pytest

from amocrm.sandbox.catalog import MANAGER_IDS


def _phones(*numbers):
    return {"field_code": "PHONE", "values": [{"value": n, "enum_code": "MOB"} for n in numbers]}


def _email(address):
    return {"field_code": "EMAIL", "values": [{"value": address, "enum_code": "WORK"}]}


@pytest.fixture
def contact_id(api):
    body = [{"name": "Ann", "custom_fields_values": [_phones("+998901112233", "+998907778899"), _email("a@x.uz")]}]
    return api.post(f"{api.base}/contacts", json=body).json()["_embedded"]["contacts"][0]["id"]


def _deal(api, contact_id, **fields):
    body = [{"name": "Deal", **fields, "_embedded": {"contacts": [{"id": contact_id}]}}]
    return api.post(f"{api.base}/leads", json=body).json()["_embedded"]["leads"][0]["id"]


def _values(api, contact_id, code):
    fields = api.get(f"{api.base}/contacts/{contact_id}").json()["custom_fields_values"] or []
    return [v["value"] for f in fields if f["field_code"] == code for v in f["values"]]


def _errors(response):
    assert response.status_code == 400
    return response.json()["validation-errors"][0]["errors"]


def test_it_finds_a_contact_with_its_deals_by_query(api, amocrm_sandbox, contact_id):
    deal_id = _deal(api, contact_id)

    found = api.get(f"{api.base}/contacts", params={"with": "leads", "query": "901112233"}).json()

    leads = found["_embedded"]["contacts"][0]["_embedded"]["leads"]
    assert leads == [{"id": deal_id, "_links": {"self": {"href": f"{amocrm_sandbox.url}/api/v4/leads/{deal_id}"}}}]


def test_it_reads_one_contact_with_its_deals(api, contact_id):
    first, second = _deal(api, contact_id), _deal(api, contact_id)

    contact = api.get(f"{api.base}/contacts/{contact_id}", params={"with": "leads"}).json()

    assert [lead["id"] for lead in contact["_embedded"]["leads"]] == [first, second]


def test_it_leaves_the_deals_out_unless_asked_with(api, contact_id):
    _deal(api, contact_id)

    contact = api.get(f"{api.base}/contacts/{contact_id}").json()

    assert "leads" not in contact["_embedded"]


def test_it_gives_the_deals_stage_through_the_lead_list_by_id(api, contact_id):
    pipelines = api.get(f"{api.base}/leads/pipelines").json()["_embedded"]["pipelines"]
    dealers, offer_sent = pipelines[1]["id"], pipelines[1]["_embedded"]["statuses"][2]["id"]
    deal_id = _deal(api, contact_id, pipeline_id=dealers, status_id=offer_sent)
    _deal(api, contact_id)

    found = api.get(f"{api.base}/leads", params={"filter[id][]": [deal_id]}).json()["_embedded"]["leads"]

    assert [(lead["id"], lead["pipeline_id"], lead["status_id"]) for lead in found] == [(deal_id, dealers, offer_sent)]


def test_it_changes_contacts_by_array_answering_their_request_ids(api, amocrm_sandbox, contact_id):
    response = api.patch(f"{api.base}/contacts", json=[{"id": contact_id, "name": "Anna", "request_id": "r1"}])

    row = response.json()["_embedded"]["contacts"][0]
    assert (row["id"], row["request_id"]) == (contact_id, "r1")
    assert row["_links"]["self"]["href"] == f"{amocrm_sandbox.url}/api/v4/contacts/{contact_id}"
    assert amocrm_sandbox.state.contacts[contact_id].name == "Anna"


def test_it_replaces_all_phones_when_phone_is_written(api, contact_id):
    api.patch(f"{api.base}/contacts/{contact_id}", json={"custom_fields_values": [_phones("+998935554433")]})

    assert _values(api, contact_id, "PHONE") == ["+998935554433"]


def test_it_keeps_the_old_phones_that_are_sent_again(api, contact_id):
    phones = _phones("+998901112233", "+998907778899", "+998935554433")

    api.patch(f"{api.base}/contacts/{contact_id}", json={"custom_fields_values": [phones]})

    assert _values(api, contact_id, "PHONE") == ["+998901112233", "+998907778899", "+998935554433"]


def test_it_leaves_the_fields_that_are_not_written(api, contact_id):
    api.patch(f"{api.base}/contacts/{contact_id}", json={"custom_fields_values": [_email("b@x.uz")]})

    assert _values(api, contact_id, "PHONE") == ["+998901112233", "+998907778899"]
    assert _values(api, contact_id, "EMAIL") == ["b@x.uz"]


def test_it_marks_the_contact_as_changed(api, amocrm_sandbox, contact_id):
    amocrm_sandbox.clock.advance(60)

    row = api.patch(f"{api.base}/contacts/{contact_id}", json={"name": "Anna"}).json()

    assert row["updated_at"] > amocrm_sandbox.state.contacts[contact_id].created_at


def test_it_changes_the_responsible_user(api, amocrm_sandbox, contact_id):
    api.patch(f"{api.base}/contacts/{contact_id}", json={"responsible_user_id": MANAGER_IDS[1]})

    assert amocrm_sandbox.state.contacts[contact_id].responsible_user_id == MANAGER_IDS[1]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"custom_fields_values": [{"field_code": "PHONE", "values": [{"value": "1", "enum_code": "MOBILE"}]}]},
         "custom_fields_values.0.values.0.enum_code"),
        ({"responsible_user_id": 123}, "responsible_user_id"),
        ({"name": 5}, "name"),
        ({"price": 5}, "price"),
    ],
)  # fmt: skip
def test_it_refuses_a_change_it_would_refuse_on_create(api, amocrm_sandbox, contact_id, change, path):
    response = api.patch(f"{api.base}/contacts", json=[{"id": contact_id, **change}])

    assert [e["path"] for e in _errors(response)] == [path]
    assert amocrm_sandbox.state.contacts[contact_id].name == "Ann"


def test_it_refuses_an_element_naming_no_contact(api):
    response = api.patch(f"{api.base}/contacts", json=[{"id": 999, "name": "X"}])

    assert [(e["path"], e["code"]) for e in _errors(response)] == [("id", "NotSupportedChoice")]


def test_it_answers_404_for_a_change_to_a_contact_that_does_not_exist(api):
    response = api.patch(f"{api.base}/contacts/999", json={"name": "X"})

    assert response.status_code == 404
