"""GET /api/v4/users: every page read, the active flag taken from the user's rights, and users in the one catalog.

Reference: https://www.amocrm.ru/developers/content/crm_platform/users-api
"""

import pytest
import responses

from amocrm.api import catalog, users
from amocrm.api.errors import AmoError
from amocrm.sandbox.catalog import DEACTIVATED_USER_ID, MANAGER_IDS
from amocrm.tests.conftest import BASE_URL

pytestmark = pytest.mark.django_db


def _user(user_id: int, name: str, active: bool = True) -> dict:
    return {"id": user_id, "name": name, "email": f"{user_id}@example.com", "rights": {"is_active": active}}


@responses.activate
def test_it_follows_user_pages_until_there_is_no_next(connected):
    page_one = {"_links": {"next": {"href": "..."}}, "_embedded": {"users": [_user(1, "Dilnoza")]}}
    page_two = {"_links": {}, "_embedded": {"users": [_user(2, "Aziz")]}}
    responses.get(f"{BASE_URL}/api/v4/users", json=page_one)
    responses.get(f"{BASE_URL}/api/v4/users", json=page_two)

    found = users.list_users(connected)

    assert [user.name for user in found] == ["Dilnoza", "Aziz"]
    assert [call.request.params["page"] for call in responses.calls] == ["1", "2"]


@responses.activate
def test_it_reads_a_deactivated_user_from_their_rights(connected):
    responses.get(f"{BASE_URL}/api/v4/users", json={"_embedded": {"users": [_user(3, "Sardor", active=False)]}})

    (user,) = users.list_users(connected)

    assert user.is_active is False


@responses.activate
def test_an_empty_answer_is_no_users(connected):
    responses.get(f"{BASE_URL}/api/v4/users", status=204)

    assert users.list_users(connected) == []


def test_the_catalog_lists_the_sandbox_users_by_name(sandbox_conn):
    account = catalog.load(sandbox_conn)

    assert account.user(MANAGER_IDS[0]).name == "Dilnoza Karimova"


def test_the_catalog_knows_who_was_deactivated(sandbox_conn, english):
    account = catalog.load(sandbox_conn)

    assert account.user_unavailable(DEACTIVATED_USER_ID) == "Sardor Tursunov is deactivated in amoCRM"


@responses.activate
def test_the_catalog_serves_pipelines_when_users_are_refused(connected):
    responses.get(f"{BASE_URL}/api/v4/leads/pipelines", json={"_embedded": {"pipelines": []}})
    responses.get(f"{BASE_URL}/api/v4/leads/custom_fields", json={"_embedded": {"custom_fields": []}})
    responses.get(f"{BASE_URL}/api/v4/users", json={"title": "Forbidden", "status": 403}, status=403)

    account = catalog.load(connected)

    assert account.users is None
    assert account.user_unavailable(123) == ""


@responses.activate
def test_a_refused_users_list_is_not_the_connections_last_error(connected):
    responses.get(f"{BASE_URL}/api/v4/users", json={"title": "Forbidden", "status": 403}, status=403)

    with pytest.raises(AmoError):
        users.list_users(connected)

    connected.refresh_from_db()
    assert connected.last_error == ""
