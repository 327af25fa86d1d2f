"""The sandbox's tasks (POST/GET /api/v4/tasks, GET /api/v4/tasks/{id}) over real HTTP, faults included.

Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api
"""

import pytest
import requests

from amocrm.sandbox.catalog import ADMIN_USER_ID, MANAGER_IDS

DUE = 1_900_000_000
OWN_TASK_TYPE = 2_900_101  # the sandbox account's own task type


@pytest.fixture
def lead_id(api):
    return api.post(f"{api.base}/leads", json=[{"name": "Deal"}]).json()["_embedded"]["leads"][0]["id"]


def _task(**fields):
    return {"text": "Call back", "complete_till": DUE, **fields}


def _create(api, *tasks):
    response = api.post(f"{api.base}/tasks", json=list(tasks))
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["_embedded"]["tasks"]]


def _listed(api, **params):
    response = api.get(f"{api.base}/tasks", params=params)
    return [] if response.status_code == 204 else [t["id"] for t in response.json()["_embedded"]["tasks"]]


def _errors(response):
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()["validation-errors"]


def test_it_creates_tasks_answering_their_ids_and_request_ids(api, amocrm_sandbox, lead_id):
    body = [_task(entity_id=lead_id, entity_type="leads", request_id="call"), _task()]

    response = api.post(f"{api.base}/tasks", json=body)

    rows = response.json()["_embedded"]["tasks"]
    assert response.headers["Content-Type"] == "application/hal+json"
    assert [row["request_id"] for row in rows] == ["call", "1"]
    assert rows[0]["_links"]["self"]["href"] == f"{amocrm_sandbox.url}/api/v4/tasks/{rows[0]['id']}"


def test_it_reads_a_task_with_the_whole_documented_model(api, lead_id):
    [task_id] = _create(api, _task(entity_id=lead_id, entity_type="leads", task_type_id=2, duration=1800))

    task = api.get(f"{api.base}/tasks/{task_id}").json()

    documented = {
        "id", "created_by", "updated_by", "created_at", "updated_at", "responsible_user_id", "group_id", "entity_id",
        "entity_type", "duration", "is_completed", "task_type_id", "text", "result", "complete_till", "account_id",
    }  # fmt: skip
    assert documented <= set(task)
    assert (task["entity_type"], task["entity_id"], task["task_type_id"], task["duration"]) == (
        "leads",
        lead_id,
        2,
        1800,
    )


def test_it_gives_a_task_to_the_connected_user_by_default(api):
    [task_id] = _create(api, _task())

    task = api.get(f"{api.base}/tasks/{task_id}").json()

    assert task["responsible_user_id"] == ADMIN_USER_ID
    assert task["task_type_id"] == 1
    assert task["result"] == []  # the docs' example: no result yet is an empty array


def test_it_takes_the_group_of_the_responsible_user(api):
    [task_id] = _create(api, _task(responsible_user_id=MANAGER_IDS[2]))

    assert api.get(f"{api.base}/tasks/{task_id}").json()["group_id"] == 470_001


def test_it_keeps_a_result_text(api):
    [task_id] = _create(api, _task(is_completed=True, result={"text": "Reached the client"}))

    assert api.get(f"{api.base}/tasks/{task_id}").json()["result"] == {"text": "Reached the client"}


def test_it_accepts_the_accounts_own_task_type(api):
    [task_id] = _create(api, _task(task_type_id=OWN_TASK_TYPE))

    assert api.get(f"{api.base}/tasks/{task_id}").json()["task_type_id"] == OWN_TASK_TYPE


def test_it_lists_the_task_types_on_the_account(api):
    types = api.get(f"{api.base}/account", params={"with": "task_types"}).json()["_embedded"]["task_types"]

    assert [t["id"] for t in types] == [1, 2, OWN_TASK_TYPE]
    assert set(types[0]) == {"id", "name", "color", "icon_id", "code"}


def test_it_requires_text_and_due_time_naming_the_element(api):
    response = api.post(f"{api.base}/tasks", json=[_task(), {"request_id": "empty"}])

    failed = _errors(response)
    assert [item["request_id"] for item in failed] == ["empty"]
    assert [e["path"] for e in failed[0]["errors"]] == ["text", "complete_till"]


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"text": ""}, "text", "NotBlank"),
        ({"complete_till": "tomorrow"}, "complete_till", "InvalidType"),
        ({"entity_id": 1}, "entity_type", "FieldMissing"),
        ({"entity_type": "leads"}, "entity_id", "FieldMissing"),
        ({"entity_type": "deals", "entity_id": 1}, "entity_type", "NotSupportedChoice"),
        ({"entity_type": "leads", "entity_id": 999}, "entity_id", "NotSupportedChoice"),
        ({"entity_type": "customers", "entity_id": 1}, "entity_id", "NotSupportedChoice"),
        ({"responsible_user_id": 123}, "responsible_user_id", "NotSupportedChoice"),
        ({"task_type_id": 3}, "task_type_id", "NotSupportedChoice"),
        ({"duration": -1}, "duration", "GreaterThanOrEqual"),
        ({"is_completed": 1}, "is_completed", "InvalidType"),
        ({"result": {"text": "x", "note": "y"}}, "result.note", "FieldNotExpected"),
        ({"priority": "high"}, "priority", "FieldNotExpected"),
    ],
)
def test_it_refuses_a_bad_task_with_the_field_path(api, amocrm_sandbox, fields, path, code):
    response = api.post(f"{api.base}/tasks", json=[_task(**fields)])

    assert [(e["path"], e["code"]) for e in _errors(response)[0]["errors"]] == [(path, code)]
    assert amocrm_sandbox.state.tasks == {}


def test_it_refuses_more_than_250_tasks(api):
    response = api.post(f"{api.base}/tasks", json=[_task()] * 251)

    assert response.status_code == 422


def test_it_refuses_an_empty_body(api):
    response = api.post(f"{api.base}/tasks", json=[])

    assert response.json()["detail"] == "Request data can not be empty"


def test_it_answers_204_when_no_task_matches(api):
    listed = api.get(f"{api.base}/tasks")
    one = api.get(f"{api.base}/tasks/123")

    assert listed.status_code == 204
    assert one.status_code == 204


def test_it_filters_tasks_by_responsible_user(api):
    mine, _ = _create(api, _task(responsible_user_id=MANAGER_IDS[0]), _task(responsible_user_id=MANAGER_IDS[1]))

    assert _listed(api, **{"filter[responsible_user_id]": MANAGER_IDS[0]}) == [mine]


def test_it_filters_tasks_by_completion_as_the_docs_example_writes_it(api):
    done, _ = _create(api, _task(is_completed=True), _task())

    assert _listed(api, **{"filter[is_completed][]": 1}) == [done]


def test_it_filters_tasks_by_type_as_the_docs_and_the_sdk_name_it(api):
    _, meeting = _create(api, _task(), _task(task_type_id=2))

    assert _listed(api, **{"filter[task_type][]": 2}) == [meeting]
    assert _listed(api, **{"filter[task_type_id]": 2}) == [meeting]


def test_it_filters_tasks_by_the_entity_they_belong_to(api, lead_id):
    on_lead, _ = _create(api, _task(entity_type="leads", entity_id=lead_id), _task())

    assert _listed(api, **{"filter[entity_type]": "leads", "filter[entity_id][]": lead_id}) == [on_lead]


def test_it_refuses_an_entity_id_filter_without_entity_type(api, lead_id):
    response = api.get(f"{api.base}/tasks", params={"filter[entity_id][]": lead_id})

    assert _errors(response)[0]["errors"][0]["path"] == "filter[entity_type]"


def test_it_filters_tasks_by_id(api):
    first, _, third = _create(api, _task(), _task(), _task())

    assert _listed(api, **{"filter[id][]": [first, third]}) == [first, third]


def test_it_filters_tasks_changed_since_a_time(api, amocrm_sandbox):
    old, new = _create(api, _task(updated_at=1_000), _task(updated_at=2_000))

    assert _listed(api, **{"filter[updated_at]": 1_500}) == [new]
    assert _listed(api, **{"filter[updated_at][from]": 500, "filter[updated_at][to]": 1_500}) == [old]


def test_it_orders_tasks_by_due_time(api):
    late, early = _create(api, _task(complete_till=DUE + 60), _task(complete_till=DUE))

    assert _listed(api, **{"order[complete_till]": "asc"}) == [early, late]


def test_it_pages_tasks(api):
    _create(api, _task(), _task(), _task())

    body = api.get(f"{api.base}/tasks", params={"limit": 2}).json()

    assert len(body["_embedded"]["tasks"]) == 2
    assert "page=2" in body["_links"]["next"]["href"]


def test_it_shows_a_deals_nearest_open_task_as_its_closest_task_at(api, lead_id):
    on_lead = {"entity_type": "leads", "entity_id": lead_id}
    _create(api, _task(complete_till=DUE + 60, **on_lead), _task(complete_till=DUE - 60, is_completed=True, **on_lead))
    _create(api, _task(complete_till=DUE, **on_lead))

    lead = api.get(f"{api.base}/leads/{lead_id}").json()

    assert lead["closest_task_at"] == DUE


def test_it_leaves_closest_task_at_empty_without_open_tasks(api, lead_id):
    assert api.get(f"{api.base}/leads/{lead_id}").json()["closest_task_at"] is None


def test_it_creates_the_tasks_of_a_request_whose_answer_is_dropped(api, amocrm_sandbox, lead_id):
    amocrm_sandbox.set_faults(drop_next=1)

    with pytest.raises(requests.ConnectionError):
        api.post(f"{api.base}/tasks", json=[_task(entity_type="leads", entity_id=lead_id)])

    assert len(_listed(api, **{"filter[entity_type]": "leads", "filter[entity_id][]": lead_id})) == 1


def test_it_creates_nothing_when_the_gateway_answers_an_error(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(error_next=1, error_statuses=[504])

    response = api.post(f"{api.base}/tasks", json=[_task()])

    assert response.status_code == 504
    assert amocrm_sandbox.state.tasks == {}


def test_it_rate_limits_task_calls_like_every_api_call(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(rate_limit=7)

    statuses = [api.get(f"{api.base}/tasks").status_code for _ in range(8)]

    assert statuses == [204] * 7 + [429]
