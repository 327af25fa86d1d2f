"""No web request waits on a sick amoCRM: pages and staff endpoints have ~10 s in all, and hold no row lock meanwhile.

A Celery worker may wait its turn for a request slot and amoCRM's full timeouts; a person's page may not: it waits a
moment for a slot, then says "amoCRM is busy, try again in a moment".
"""

import pytest
import responses
from django.db import connection

from amocrm.api import budget, client, ratelimit, transport
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.models import Settings
from amocrm.tests.test_oauth_views import _callback, _press_connect, configured  # noqa: F401 - a fixture

BUSY = "amoCRM is busy, try again in a moment."
SETTINGS_URL = "/admin/amocrm/settings/1/change/"


@pytest.fixture
def queue_for_slots(sandbox_conn):
    """Every process must wait 20 s for its next request slot (a 429 pause, or a long queue of workers)."""
    ratelimit.pause(20)
    yield
    ratelimit.reset()


@pytest.fixture
def timeouts(monkeypatch) -> list:
    """The (connect, read) timeout of every request sent."""
    sent, request = [], transport.amocrm_session().request

    def recording(method, url, **kwargs):
        sent.append(kwargs["timeout"])
        return request(method, url, **kwargs)

    monkeypatch.setattr(transport.amocrm_session(), "request", recording)
    return sent


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.django_db
@pytest.mark.usefixtures("queue_for_slots")
def test_the_settings_page_says_amocrm_is_busy_instead_of_waiting_for_a_slot(admin_client):
    response = admin_client.get(SETTINGS_URL)

    assert any(BUSY in message for message in _messages(response))


@pytest.mark.django_db
@pytest.mark.usefixtures("queue_for_slots")
def test_the_test_button_says_amocrm_is_busy_instead_of_waiting_for_a_slot(admin_client):
    response = admin_client.post("/admin/amocrm/settings/test/", follow=True)

    assert _messages(response)[0] == BUSY


@pytest.mark.django_db
@pytest.mark.usefixtures("queue_for_slots")
def test_the_staff_leads_endpoint_answers_503_busy_instead_of_waiting_for_a_slot(admin_client):
    response = admin_client.get("/api/amocrm/leads")

    assert (response.status_code, response.json()["error"]) == (503, BUSY)


@pytest.mark.django_db
def test_a_page_gives_each_request_only_the_time_it_has_left(sandbox_conn, timeouts):
    with budget.within(3):
        client.get_account(sandbox_conn)

    (connect, read) = timeouts[0]
    assert connect <= 3
    assert read <= 3


@pytest.mark.django_db
def test_a_worker_keeps_amocrms_own_timeouts(sandbox_conn, timeouts):
    client.get_account(sandbox_conn)

    assert timeouts == [transport.TIMEOUT]


@pytest.mark.django_db
def test_a_page_whose_time_is_up_sends_nothing_more(sandbox_conn, sandbox):
    with budget.within(0), pytest.raises(AmoError) as caught:
        client.get_account(sandbox_conn)

    assert caught.value.kind == ErrorKind.RATE_LIMITED
    assert sandbox.received(path="/api/v4/account") == []


@pytest.mark.django_db(transaction=True)
def test_connecting_holds_no_database_lock_while_amocrm_is_asked(admin_client, configured, sandbox):  # noqa: F811
    state = _press_connect(admin_client)
    redirect = sandbox.authorize(state=state)
    in_transaction = []

    def account(request):
        in_transaction.append(connection.in_atomic_block)
        return 200, {}, '{"id": 30000001, "name": "Sandbox", "subdomain": "sandbox"}'

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru(sandbox.url + "/oauth2")
        mocked.add_callback(responses.GET, f"{sandbox.url}/api/v4/account", callback=account)
        _callback(admin_client, **redirect)

    assert in_transaction == [False]
    assert Settings.load().account_id == 30_000_001
