"""client.py against amoCRM mocked at the HTTP boundary: what is sent, what is stored, how each reply is read."""

import json

import pytest
import responses

from amocrm.api import answers, client
from amocrm.models import Settings
from amocrm.tests.conftest import BASE_URL

pytestmark = pytest.mark.usefixtures("limiter", "english")

ACCOUNT = {"id": 31, "name": "Acoustic", "subdomain": "acoustic", "current_user_id": 5}


@responses.activate
def test_it_sends_the_bearer_token_to_the_account_host(connected):
    responses.get(f"{BASE_URL}/api/v4/account", json=ACCOUNT)

    account = client.get_account(connected)

    assert account == answers.Account(id=31, name="Acoustic", subdomain="acoustic")
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {connected.access_token}"
    assert Settings.load().last_success_at is not None


@responses.activate
def test_it_asks_the_shared_rate_limiter_before_every_request(connected, limiter):
    responses.get(f"{BASE_URL}/api/v4/account", json=ACCOUNT)

    client.get_account(connected)
    client.get_account(connected)

    assert limiter.acquired == 2


@responses.activate
def test_it_reads_204_as_an_empty_page_of_leads(connected):
    responses.get(f"{BASE_URL}/api/v4/leads", status=204)

    page = client.list_leads(connected, page=3)

    assert page == answers.LeadsPage(leads=[], page=3, has_next=False)


@responses.activate
def test_it_reads_204_as_no_contacts_found(connected):
    responses.get(f"{BASE_URL}/api/v4/contacts", status=204)

    assert client.find_contacts(connected, "998901234567") == []
    assert responses.calls[0].request.params == {"query": "998901234567"}


@responses.activate
def test_it_reads_a_page_of_leads_with_fields_and_contacts(connected):
    row = {
        "id": 7, "name": "Deal", "price": 0, "pipeline_id": 1, "status_id": 2, "created_at": 10, "updated_at": 11,
        "custom_fields_values": [{"field_id": 5, "values": [{"value": "abc"}]}],
        "_embedded": {"contacts": [{"id": 9, "is_main": True}]},
    }  # fmt: skip
    body = {"_page": 1, "_links": {"next": {"href": "..."}}, "_embedded": {"leads": [row]}}
    responses.get(f"{BASE_URL}/api/v4/leads", json=body)

    page = client.list_leads(connected, limit=250, query="marker")

    assert page.has_next and page.leads[0].custom_fields == {5: ["abc"]} and page.leads[0].contact_ids == [9]
    assert responses.calls[0].request.params == {"page": "1", "limit": "250", "with": "contacts", "query": "marker"}


@responses.activate
def test_it_posts_complex_leads_as_one_json_array(connected):
    created = [{"id": 555, "contact_id": 9, "company_id": None, "request_id": ["41"], "merged": False}]
    responses.post(f"{BASE_URL}/api/v4/leads/complex", json=created)
    lead = {"name": "Deal", "request_id": "41", "_embedded": {"contacts": [{"name": "Ann"}]}}

    result = client.create_complex_leads(connected, [lead])

    assert json.loads(responses.calls[0].request.body) == [lead]
    assert result == [answers.CreatedLead(id=555, contact_id=9, request_ids=["41"], merged=False)]


@responses.activate
def test_it_refuses_more_than_50_leads_without_sending(connected):
    with pytest.raises(ValueError):
        client.create_complex_leads(connected, [{"name": str(i)} for i in range(51)])

    assert len(responses.calls) == 0


@responses.activate
def test_it_reads_created_notes_and_unsorted_items(connected):
    responses.post(f"{BASE_URL}/api/v4/leads/notes", json={"_embedded": {"notes": [{"id": 76, "entity_id": 5}]}})
    unsorted = {"uid": "u1", "request_id": "41", "_embedded": {"leads": [{"id": 5}], "contacts": [{"id": 9}]}}
    responses.post(f"{BASE_URL}/api/v4/leads/unsorted/forms", json={"_embedded": {"unsorted": [unsorted]}})

    notes = client.add_lead_notes(connected, [{"entity_id": 5, "note_type": "common", "params": {"text": "hi"}}])
    items = client.create_unsorted_forms(connected, [{"request_id": "41", "source_uid": "s", "source_name": "n"}])

    assert notes == [76]
    assert items == [answers.CreatedUnsorted(uid="u1", request_id="41", lead_ids=[5], contact_ids=[9])]


@responses.activate
def test_it_follows_custom_field_pages_until_there_is_no_next(connected):
    field = {"id": 1, "name": "UTM", "code": "UTM_SOURCE", "type": "tracking_data"}
    page_one = {"_links": {"next": {"href": "..."}}, "_embedded": {"custom_fields": [field]}}
    page_two = {"_links": {}, "_embedded": {"custom_fields": [{**field, "id": 2, "code": None}]}}
    responses.get(f"{BASE_URL}/api/v4/leads/custom_fields", json=page_one)
    responses.get(f"{BASE_URL}/api/v4/leads/custom_fields", json=page_two)

    fields = client.list_lead_custom_fields(connected)

    assert [(f.id, f.code) for f in fields] == [(1, "UTM_SOURCE"), (2, None)]
    assert [call.request.params["page"] for call in responses.calls] == ["1", "2"]
