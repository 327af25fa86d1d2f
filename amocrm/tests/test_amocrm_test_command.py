"""`manage.py amocrm_test`: one clear line and exit 1 for each kind of trouble; a full report when all is well."""

from io import StringIO

import pytest
import responses
from django.core.management import CommandError, call_command

from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.sandbox.catalog import MAIN_PIPELINE
from amocrm.tests.conftest import BASE_URL

pytestmark = pytest.mark.usefixtures("english")

ACCOUNT_URL = f"{BASE_URL}/api/v4/account"


def _fails_with(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("amocrm_test", *args, stdout=StringIO())
    return str(caught.value)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("amocrm_test", *args, stdout=out)
    return out.getvalue()


def test_it_says_when_amocrm_is_not_configured(db):
    assert _fails_with().startswith("Not configured:")


def test_it_says_when_amocrm_is_not_connected(db):
    Settings.objects.update_or_create(pk=1, defaults={"client_id": "c", "client_secret": "s"})

    assert _fails_with().startswith("Not connected:")


def test_it_says_when_the_token_was_revoked(connected):
    connected.mark_needs_reconnect("revoked")

    assert _fails_with().startswith("Token revoked, reconnect in the admin:")


@pytest.mark.usefixtures("limiter")
def test_it_says_when_amocrm_is_unreachable(connected, settings):
    settings.AMOCRM_SANDBOX_URL = "http://127.0.0.1:1"

    assert _fails_with().startswith("amoCRM unreachable:")


@pytest.mark.usefixtures("limiter")
@responses.activate
def test_it_says_when_amocrm_blocks_the_integration(connected):
    responses.get(ACCOUNT_URL, status=403, body="<html>403 Forbidden</html>", content_type="text/html")

    assert _fails_with().startswith("Blocked:")


@pytest.mark.usefixtures("limiter")
@responses.activate
def test_it_says_when_the_subscription_needs_payment(connected):
    responses.get(ACCOUNT_URL, status=402, json={"title": "Payment Required", "status": 402})

    assert _fails_with().startswith("Payment required:")


def test_it_lifts_a_402_pause_once_amocrm_answers(sandbox_conn):
    sandbox_conn.pause_sending("The amoCRM subscription has ended. amoCRM says: Payment required")

    out = _run()

    assert "sending: resumed (it was paused: The amoCRM subscription has ended." in out
    assert Settings.load().sending_paused_reason == ""


def test_it_says_when_the_chosen_pipeline_is_gone(sandbox_conn):
    Settings.objects.filter(pk=1).update(pipeline_id=999)

    assert "pipeline (id 999) no longer exists" in _fails_with()


def test_it_reports_account_pipeline_stage_token_and_limiter(sandbox_conn, sandbox):
    stage = MAIN_PIPELINE.first_stage
    Settings.objects.filter(pk=1).update(pipeline_id=MAIN_PIPELINE.id, status_id=stage.id)

    out = _run()

    assert f"account: {sandbox.config.subdomain} (sandbox)" in out
    assert f"pipeline: {MAIN_PIPELINE.name}\nstage: {stage.name}\n" in out
    assert "access token expires: " in out and "refresh token expires: " in out
    assert "rate limiter: 7.0 requests/s" in out and out.endswith("amoCRM: all is well\n")


def test_it_sends_a_test_lead_and_prints_its_url(sandbox_conn, sandbox):
    out = _run("--send-test-lead")

    (lead,) = sandbox.state.leads.values()
    assert f"test lead: {sandbox.url}/leads/detail/{lead.id}\n" in out
    assert lead.name.startswith("Yangi so'rov: Test lead from acoustic-leads") and len(lead.contact_ids) == 1
    assert Delivery.objects.get().state == DeliveryState.DELIVERED  # it went through the delivery engine


def test_it_speaks_the_language_asked_for(db):
    with pytest.raises(CommandError) as caught:
        call_command("amocrm_test", "--lang", "ru", stdout=StringIO())

    assert str(caught.value).startswith("Не настроено")


def test_it_prints_no_log_lines(connected, settings, capfd):
    settings.AMOCRM_SANDBOX_URL = "http://127.0.0.1:1"

    _fails_with()

    assert "WARNING" not in capfd.readouterr().err


def test_it_says_all_is_well_in_the_sites_language(sandbox_conn, settings):
    settings.LANGUAGE_CODE = "uz"

    out = _run()

    assert out.splitlines()[-1] != "amoCRM: all is well"
