"""The sandbox's users (GET /api/v4/users[/{id}]), who the integration runs as, and staff changes, over real HTTP.

Reference: https://www.amocrm.ru/developers/content/crm_platform/users-api
"""

import pytest
import requests

from amocrm.sandbox.catalog import ADMIN_USER_ID, DEACTIVATED_USER_ID, MANAGER_IDS


def _control(sandbox, **changes):
    return requests.post(f"{sandbox.url}/_sandbox/control", json=changes)


def _users(api, **params):
    return {user["id"]: user for user in api.get(f"{api.base}/users", params=params).json()["_embedded"]["users"]}


def _errors(response):
    assert response.status_code == 400
    return response.json()["validation-errors"][0]["errors"]


def test_it_lists_the_admin_three_active_managers_and_one_who_left(api):
    users = _users(api)

    rights = {user_id: user["rights"] for user_id, user in users.items()}
    assert [rights[i]["is_admin"] for i in (ADMIN_USER_ID, *MANAGER_IDS)] == [True, False, False, False]
    assert [rights[i]["is_active"] for i in MANAGER_IDS] == [True, True, True]
    assert rights[DEACTIVATED_USER_ID]["is_active"] is False


def test_it_gives_each_user_the_documented_fields(api):
    user = api.get(f"{api.base}/users/{MANAGER_IDS[0]}").json()

    assert {"id", "name", "email", "lang", "rights", "_links"} <= set(user)
    assert {"leads", "contacts", "companies", "tasks", "mail_access", "catalog_access", "status_rights"} <= set(
        user["rights"]
    )
    assert {"is_admin", "is_free", "is_active", "group_id", "role_id"} <= set(user["rights"])


def test_it_pages_users_with_totals(api):
    response = api.get(f"{api.base}/users", params={"limit": 2})

    body = response.json()
    assert response.headers["Content-Type"] == "application/hal+json"
    assert (body["_total_items"], body["_page"], body["_page_count"]) == (5, 1, 3)
    assert len(body["_embedded"]["users"]) == 2
    assert "page=2" in body["_links"]["next"]["href"]


def test_it_refuses_a_user_page_over_250(api):
    response = api.get(f"{api.base}/users", params={"limit": 251})

    assert response.status_code == 422


def test_it_adds_role_group_and_ids_only_when_asked_with(api):
    plain = api.get(f"{api.base}/users/{MANAGER_IDS[0]}").json()
    full = api.get(f"{api.base}/users/{MANAGER_IDS[0]}", params={"with": "role,group,uuid,amojo_id,user_rank"}).json()

    assert "amojo_id" not in plain
    assert "_embedded" not in plain
    assert full["amojo_id"]
    assert full["user_rank"] == "newbie"
    assert "uuid" in full
    assert full["_embedded"]["roles"][0]["id"] == full["rights"]["role_id"]
    assert full["_embedded"]["groups"] == [{"id": 0, "name": "Отдел продаж"}]


def test_it_answers_204_for_an_id_that_is_no_user(api):
    response = api.get(f"{api.base}/users/123")

    assert response.status_code == 204
    assert response.content == b""


def test_it_refuses_users_with_403_when_a_non_admin_connected_the_integration(api, amocrm_sandbox):
    _control(amocrm_sandbox, connected_by_admin=False)

    listed = api.get(f"{api.base}/users")
    one = api.get(f"{api.base}/users/{ADMIN_USER_ID}")

    assert listed.status_code == 403
    assert listed.headers["Content-Type"] == "application/problem+json"
    assert one.status_code == 403


def test_it_runs_as_a_manager_when_a_non_admin_connected(api, amocrm_sandbox):
    answer = _control(amocrm_sandbox, connected_by_admin=False).json()

    account = api.get(f"{api.base}/account").json()

    assert answer["connected_by_admin"] is False
    assert account["current_user_id"] == MANAGER_IDS[0]


def test_it_refuses_webhook_management_to_a_non_admin(api, amocrm_sandbox):
    _control(amocrm_sandbox, connected_by_admin=False)

    response = api.post(f"{api.base}/webhooks", json={"destination": "https://example.com/h", "settings": ["add_lead"]})

    assert response.status_code == 403


def test_it_serves_users_again_once_an_admin_connects(api, amocrm_sandbox):
    _control(amocrm_sandbox, connected_by_admin=False)
    _control(amocrm_sandbox, connected_by_admin=True)

    assert api.get(f"{api.base}/users").status_code == 200


def test_it_deactivates_and_reactivates_a_user(api, amocrm_sandbox):
    deactivated = _control(amocrm_sandbox, deactivate_user=MANAGER_IDS[1])
    after_leaving = _users(api)[MANAGER_IDS[1]]["rights"]["is_active"]
    _control(amocrm_sandbox, activate_user=MANAGER_IDS[1])

    assert deactivated.json()["done"] == {"deactivated_user": MANAGER_IDS[1]}
    assert after_leaving is False
    assert _users(api)[MANAGER_IDS[1]]["rights"]["is_active"] is True


def test_it_adds_a_user_who_can_then_be_responsible_for_a_deal(api, amocrm_sandbox):
    new_id = _control(amocrm_sandbox, add_user={"name": "Nodira Qodirova", "email": "nodira@example.com"}).json()[
        "done"
    ]["added_user"]

    created = api.post(f"{api.base}/leads", json=[{"name": "A", "responsible_user_id": new_id}])

    assert _users(api)[new_id]["name"] == "Nodira Qodirova"
    assert created.status_code == 200


def test_it_refuses_a_deal_for_someone_who_is_no_user_of_the_account(api):
    response = api.post(f"{api.base}/leads", json=[{"name": "A", "responsible_user_id": 123}])

    assert _errors(response) == [
        {
            "code": "NotSupportedChoice",
            "path": "responsible_user_id",
            "detail": "The value you selected is not a valid choice.",
        }
    ]


def test_it_accepts_a_deactivated_user_as_responsible_as_the_docs_do_not_forbid_it(api):
    response = api.post(f"{api.base}/leads", json=[{"name": "A", "responsible_user_id": DEACTIVATED_USER_ID}])

    assert response.status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"deactivate_user": 123},
        {"activate_user": "8000002"},
        {"connected_by_admin": "no"},
        {"add_user": {"name": "X"}},
        {"add_user": {"name": "X", "email": "admin@example.com"}},
        {"add_user": {"name": "X", "email": "x@example.com", "role": "boss"}},
    ],
)
def test_it_refuses_a_bad_staff_change_and_changes_nothing(amocrm_sandbox, changes):
    response = _control(amocrm_sandbox, **changes)

    assert response.status_code == 400
    assert len(amocrm_sandbox.state.users) == 5


def test_it_reset_brings_back_the_seeded_users_and_the_admin_connection(api, amocrm_sandbox):
    _control(amocrm_sandbox, connected_by_admin=False, deactivate_user=MANAGER_IDS[0])

    _control(amocrm_sandbox, reset=True)

    assert api.get(f"{api.base}/users").status_code == 401  # reset drops the tokens too
    assert amocrm_sandbox.state.current_user().id == ADMIN_USER_ID
    assert amocrm_sandbox.state.users[MANAGER_IDS[0]].is_active is True
