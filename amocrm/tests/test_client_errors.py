"""The amoCRM client's errors: whose fault each answer is, what it says, and what happens next."""

import json

import pytest
import requests
import responses
from urllib3.exceptions import ProtocolError

from amocrm.api import client
from amocrm.api.errors import AmoError, ErrorKind, Fault
from amocrm.models import ConnectionState, Settings
from amocrm.tests.conftest import BASE_URL, TOKEN_URL, token_reply

pytestmark = pytest.mark.usefixtures("limiter", "english")

ACCOUNT = {"id": 31, "name": "Acoustic", "subdomain": "acoustic", "current_user_id": 5}
HTML_429 = "<html><head><title>429 Too Many Requests</title></head><body><center>nginx</center></body></html>"
HTML_403 = "<html><head><title>403 Forbidden</title></head><body><center>nginx</center></body></html>"


def _fail(call, *args):
    with pytest.raises(AmoError) as caught:
        call(*args)
    return caught.value


@responses.activate
def test_it_reports_validation_errors_with_field_paths_as_permanent(connected):
    problem = {
        "validation-errors": [{"request_id": "41", "errors": [
            {"code": "NotSupportedChoice", "path": "_embedded.contacts.0.custom_fields_values.0.field_id",
             "detail": "The value you selected is not a valid choice."}]}],
        "title": "Bad Request", "status": 400, "detail": "Request validation failed",
    }  # fmt: skip
    responses.post(f"{BASE_URL}/api/v4/leads/complex", json=problem, status=400)

    error = _fail(client.create_complex_leads, connected, [{"request_id": "41"}])

    assert error.kind == ErrorKind.VALIDATION and error.permanent and not error.outcome_unknown
    assert error.field_errors[0].request_id == "41"
    assert error.field_errors[0].path == "_embedded.contacts.0.custom_fields_values.0.field_id"
    assert Settings.load().last_error == ""  # one lead's bad data is not the connection's problem


@responses.activate
def test_it_blames_the_lead_for_validation_errors(connected):
    responses.post(f"{BASE_URL}/api/v4/leads/complex", json={"title": "Bad Request", "status": 400}, status=400)

    error = _fail(client.create_complex_leads, connected, [{"request_id": "41"}])

    assert error.fault == Fault.LEAD


@responses.activate
def test_it_blames_the_account_for_a_402_and_pauses_sending(connected):
    responses.post(f"{BASE_URL}/api/v4/leads/complex", status=402, json={"title": "Payment Required", "status": 402})

    error = _fail(client.create_complex_leads, connected, [{"request_id": "41"}])

    assert error.fault == Fault.CONNECTION
    assert error.pauses_sending


@responses.activate
def test_it_blames_the_access_for_a_long_lived_token_amocrm_refuses(long_lived):
    responses.get(f"{BASE_URL}/api/v4/account", status=401, json={"title": "Unauthorized", "status": 401})

    error = _fail(client.get_account, long_lived)

    assert error.needs_reconnect


@responses.activate
def test_it_takes_a_server_error_for_passing(connected):
    responses.get(f"{BASE_URL}/api/v4/account", status=502, body="<html>502</html>", content_type="text/html")

    error = _fail(client.get_account, connected)

    assert error.fault == Fault.PASSING


@responses.activate
def test_it_blames_the_connection_for_a_redirect_to_another_host(connected):
    responses.get(f"{BASE_URL}/api/v4/account", status=301, headers={"Location": "https://acoustic.kommo.com/"})

    error = _fail(client.get_account, connected)

    assert error.needs_reconnect


@responses.activate
def test_it_quotes_amocrm_on_a_402(connected):
    problem = {"title": "Payment Required", "status": 402, "detail": "Payment required"}
    responses.post(f"{BASE_URL}/api/v4/leads/complex", status=402, json=problem)

    error = _fail(client.create_complex_leads, connected, [{"request_id": "41"}])

    assert error.message.endswith("amoCRM says: Payment required")


@responses.activate
def test_it_quotes_the_title_of_amocrms_html_403_page(connected):
    responses.get(f"{BASE_URL}/api/v4/account", status=403, body=HTML_403, content_type="text/html")

    error = _fail(client.get_account, connected)

    assert error.message.endswith("amoCRM says: 403 Forbidden")


@responses.activate
def test_it_refreshes_once_on_401_and_retries_with_the_new_token(connected):
    responses.get(f"{BASE_URL}/api/v4/account", status=401, json={"title": "Unauthorized", "status": 401})
    responses.post(TOKEN_URL, json=token_reply("access-2", "refresh-2"))
    responses.get(f"{BASE_URL}/api/v4/account", json=ACCOUNT)

    client.get_account(connected)

    sent = json.loads(responses.calls[1].request.body)
    assert sent["grant_type"] == "refresh_token" and sent["refresh_token"] == "refresh-1"
    assert responses.calls[2].request.headers["Authorization"] == "Bearer access-2"
    assert (Settings.load().access_token, Settings.load().refresh_token) == ("access-2", "refresh-2")


@responses.activate
def test_it_gives_up_when_the_new_token_gets_401_too(connected):
    responses.get(f"{BASE_URL}/api/v4/account", status=401)
    responses.post(TOKEN_URL, json=token_reply())

    error = _fail(client.get_account, connected)

    assert error.kind == ErrorKind.UNAUTHORIZED and error.permanent
    assert len(responses.calls) == 3  # call, one refresh, one retry


@responses.activate
def test_it_reports_402_as_payment_required(connected):
    responses.post(f"{BASE_URL}/api/v4/leads/complex", status=402, json={"title": "Payment Required", "status": 402})

    error = _fail(client.create_complex_leads, connected, [{"name": "x"}])

    assert error.kind == ErrorKind.PAYMENT_REQUIRED and error.permanent and error.status == 402


@responses.activate
def test_it_reads_an_html_403_as_blocked(connected):
    responses.get(f"{BASE_URL}/api/v4/account", status=403, body=HTML_403, content_type="text/html")

    error = _fail(client.get_account, connected)

    assert error.kind == ErrorKind.BLOCKED and error.permanent
    assert Settings.load().last_error == error.message


@responses.activate
def test_it_pauses_every_process_for_a_minute_on_an_html_429(connected, limiter):
    responses.get(f"{BASE_URL}/api/v4/account", status=429, body=HTML_429, content_type="text/html")

    error = _fail(client.get_account, connected)

    assert error.kind == ErrorKind.RATE_LIMITED and not error.permanent and error.retry_after == 60
    assert limiter.pauses == [60]


@responses.activate
def test_it_takes_the_wait_from_a_kommo_429_body(connected, limiter):
    body = {"title": "Too Many Requests", "status": 429, "retry_after": 300}
    responses.get(f"{BASE_URL}/api/v4/account", status=429, json=body)

    error = _fail(client.get_account, connected)

    assert error.retry_after == 300 and limiter.pauses == [300]


@responses.activate
def test_it_takes_the_wait_from_a_retry_after_header(connected, limiter):
    responses.get(f"{BASE_URL}/api/v4/account", status=429, headers={"Retry-After": "17"})

    error = _fail(client.get_account, connected)

    assert error.retry_after == 17 and limiter.pauses == [17]


@responses.activate
def test_it_retries_a_gateway_error_later_and_flags_a_write_as_maybe_done(connected):
    responses.post(f"{BASE_URL}/api/v4/leads/complex", status=504, body="<html>504</html>")

    error = _fail(client.create_complex_leads, connected, [{"name": "x"}])

    assert error.kind == ErrorKind.SERVER and not error.permanent and error.status == 504 and error.outcome_unknown


def test_it_knows_a_refused_connection_sent_nothing(connected, settings):
    settings.AMOCRM_SANDBOX_URL = "http://127.0.0.1:1"  # a real socket: nothing listens on port 1

    error = _fail(client.create_complex_leads, connected, [{"name": "x"}])

    assert error.kind == ErrorKind.NETWORK and not error.permanent and not error.outcome_unknown


@responses.activate
def test_it_flags_a_read_timeout_as_outcome_unknown(connected):
    responses.post(f"{BASE_URL}/api/v4/leads/complex", body=requests.ReadTimeout("read timed out"))

    error = _fail(client.create_complex_leads, connected, [{"name": "x"}])

    assert error.kind == ErrorKind.NETWORK and not error.permanent and error.outcome_unknown


@responses.activate
def test_it_flags_a_connection_dropped_mid_answer_as_outcome_unknown(connected):
    dropped = requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))
    responses.post(f"{BASE_URL}/api/v4/leads/complex", body=dropped)

    error = _fail(client.create_complex_leads, connected, [{"name": "x"}])

    assert error.outcome_unknown


@responses.activate
def test_it_does_not_follow_redirects(connected):
    location = "https://acoustic.kommo.com/api/v4/account"
    responses.get(f"{BASE_URL}/api/v4/account", status=301, headers={"Location": location})

    error = _fail(client.get_account, connected)

    assert error.kind == ErrorKind.UNEXPECTED and location in error.message and len(responses.calls) == 1


@responses.activate
def test_it_reads_an_answer_of_the_wrong_shape_as_unexpected(connected):
    responses.get(f"{BASE_URL}/api/v4/account", json={"no": "id"})

    error = _fail(client.get_account, connected)

    assert error.kind == ErrorKind.UNEXPECTED and error.permanent


@responses.activate
def test_it_refuses_to_call_when_not_configured(db):
    error = _fail(client.get_account, Settings.load())

    assert error.kind == ErrorKind.NOT_CONFIGURED and len(responses.calls) == 0


@responses.activate
def test_it_refuses_to_call_when_not_connected(connected):
    connected.state = ConnectionState.NOT_CONNECTED

    error = _fail(client.get_account, connected)

    assert error.kind == ErrorKind.NOT_CONNECTED and len(responses.calls) == 0


@responses.activate
def test_it_refuses_to_call_once_access_was_revoked(connected):
    connected.mark_needs_reconnect("revoked")

    error = _fail(client.get_account, connected)

    assert error.kind == ErrorKind.REVOKED and len(responses.calls) == 0
