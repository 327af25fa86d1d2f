"""The sandbox's overview page at `/` and its JSON state: users and tasks are shown along with the deals."""

import requests

from amocrm.sandbox.catalog import DEACTIVATED_USER_ID, MANAGER_IDS


def _page(sandbox):
    return requests.get(f"{sandbox.url}/").text


def _row(page, cell):
    """The table row holding `cell`."""
    start = page.index(cell)
    return page[page.rindex("<tr>", 0, start) : page.index("</tr>", start)]


def test_it_lists_the_users_marking_who_left(amocrm_sandbox):
    page = _page(amocrm_sandbox)

    assert "<h2>Users</h2>" in page
    assert "deactivated" in _row(page, f"<td>{DEACTIVATED_USER_ID}</td>")
    assert "deactivated" not in _row(page, f"<td>{MANAGER_IDS[0]}</td>")


def test_it_shows_whose_rights_the_integration_runs_with(amocrm_sandbox):
    requests.post(f"{amocrm_sandbox.url}/_sandbox/control", json={"connected_by_admin": False})

    page = _page(amocrm_sandbox)

    assert "integration connected as this user" in _row(page, f"<td>{MANAGER_IDS[0]}</td>")


def test_it_lists_tasks_with_their_responsible_user_and_deal(api, amocrm_sandbox):
    lead_id = api.post(f"{api.base}/leads", json=[{"name": "Deal"}]).json()["_embedded"]["leads"][0]["id"]
    task = {"text": "Fit the hearing aid", "complete_till": 1_900_000_000, "entity_type": "leads", "entity_id": lead_id}
    api.post(f"{api.base}/tasks", json=[{**task, "responsible_user_id": MANAGER_IDS[1]}])

    row = _row(_page(amocrm_sandbox), "Fit the hearing aid")

    assert "Aziz Rahimov" in row
    assert f"leads {lead_id}" in row


def test_it_escapes_task_texts(api, amocrm_sandbox):
    api.post(f"{api.base}/tasks", json=[{"text": "<b>call</b>", "complete_till": 1_900_000_000}])

    page = _page(amocrm_sandbox)

    assert "<b>call</b>" not in page
    assert "&lt;b&gt;call&lt;/b&gt;" in page


def test_it_dumps_users_and_tasks_as_json(api, amocrm_sandbox):
    api.post(f"{api.base}/tasks", json=[{"text": "Call", "complete_till": 1_900_000_000}])

    dump = requests.get(f"{amocrm_sandbox.url}/_sandbox/state").json()

    assert len(dump["users"]) == 5
    assert [task["text"] for task in dump["tasks"]] == ["Call"]
