"""The calls follow-up tasks and repeat requests make, against amoCRM mocked at the HTTP boundary."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from amocrm.api import catalog, client, contacts, manager_tasks
from amocrm.api.contacts import FieldValue
from amocrm.api.errors import AmoError
from amocrm.api.manager_tasks import CreatedTask, TaskType
from amocrm.tests.conftest import BASE_URL

pytestmark = pytest.mark.usefixtures("limiter", "english")


def query(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


@responses.activate
def test_it_creates_the_tasks_in_one_request(connected):
    reply = {"_embedded": {"tasks": [{"id": 71, "request_id": "5"}, {"id": 72, "request_id": "6"}]}}
    responses.post(f"{BASE_URL}/api/v4/tasks", json=reply)

    created = manager_tasks.create_tasks(connected, [{"request_id": "5"}, {"request_id": "6"}])

    assert created == [CreatedTask(71, "5"), CreatedTask(72, "6")]
    assert len(json.loads(responses.calls[0].request.body)) == 2


def test_it_refuses_more_than_fifty_tasks_before_sending(connected):
    with pytest.raises(ValueError):
        manager_tasks.create_tasks(connected, [{}] * 51)


@responses.activate
def test_it_asks_for_the_tasks_of_the_deals(connected):
    responses.get(f"{BASE_URL}/api/v4/tasks", status=204)

    manager_tasks.list_lead_tasks(connected, [11, 12])

    sent = query(responses.calls[0])
    assert sent["filter[entity_type]"] == ["leads"]
    assert sent["filter[entity_id][]"] == ["11", "12"]


@responses.activate
def test_no_tasks_is_204(connected):
    responses.get(f"{BASE_URL}/api/v4/tasks", status=204)

    assert manager_tasks.list_lead_tasks(connected, [11]) == []


@responses.activate
def test_it_reads_the_account_task_types(connected):
    types = [{"id": 1, "name": "Связаться"}, {"id": 2900101, "name": "Примерка"}]
    responses.get(f"{BASE_URL}/api/v4/account", json={"id": 1, "_embedded": {"task_types": types}})

    found = manager_tasks.list_task_types(connected)

    assert found == [TaskType(1, "Связаться"), TaskType(2900101, "Примерка")]
    assert query(responses.calls[0])["with"] == ["task_types"]


@responses.activate
def test_it_reads_contacts_with_their_deals_and_phone_kinds(connected):
    phone = {"field_code": "PHONE", "values": [{"value": "+998901", "enum_code": "MOB"}]}
    row = {"id": 9, "custom_fields_values": [phone], "_embedded": {"leads": [{"id": 555}]}}
    responses.get(f"{BASE_URL}/api/v4/contacts", json={"_embedded": {"contacts": [row]}})

    found = contacts.contacts_with_leads(connected, [9])

    assert found[0].lead_ids == [555]
    assert found[0].phones == [FieldValue("+998901", "MOB")]
    assert query(responses.calls[0])["with"] == ["leads"]


@responses.activate
def test_it_reads_the_deals_stages_by_id(connected):
    row = {"id": 555, "pipeline_id": 7, "status_id": 142, "responsible_user_id": 8}
    responses.get(f"{BASE_URL}/api/v4/leads", json={"_embedded": {"leads": [row]}})

    found = client.list_leads_by_id(connected, [555])

    assert (found[0].pipeline_id, found[0].status_id, found[0].responsible_user_id) == (7, 142, 8)
    assert query(responses.calls[0])["filter[id][]"] == ["555"]


@responses.activate
def test_it_adds_tags_without_replacing_the_deals_tags(connected):
    responses.patch(f"{BASE_URL}/api/v4/leads", json={"_embedded": {"leads": [{"id": 555}]}})

    contacts.add_lead_tags(connected, {555: ["repeat"]})

    sent = json.loads(responses.calls[0].request.body)
    assert sent == [{"id": 555, "tags_to_add": [{"name": "repeat"}]}]


@responses.activate
def test_it_sends_contact_changes_in_one_request(connected):
    responses.patch(f"{BASE_URL}/api/v4/contacts", json={"_embedded": {"contacts": [{"id": 9}, {"id": 10}]}})

    contacts.update_contacts(connected, [{"id": 9}, {"id": 10}])

    assert len(responses.calls) == 1


@responses.activate
def test_the_catalog_serves_pipelines_when_task_types_fail(connected):
    responses.get(f"{BASE_URL}/api/v4/leads/pipelines", json={"_embedded": {"pipelines": []}})
    responses.get(f"{BASE_URL}/api/v4/leads/custom_fields", json={"_embedded": {"custom_fields": []}})
    responses.get(f"{BASE_URL}/api/v4/users", json={"_embedded": {"users": []}})
    responses.get(f"{BASE_URL}/api/v4/account", status=500)

    account = catalog.load(connected)

    assert account.task_types == []


@responses.activate
def test_failing_task_types_are_not_the_connections_last_error(connected):
    responses.get(f"{BASE_URL}/api/v4/account", status=500)

    with pytest.raises(AmoError):
        manager_tasks.list_task_types(connected)

    connected.refresh_from_db()
    assert connected.last_error == ""
