"""Every request to amoCRM leaves a row (endpoint, status, time taken, error) and counts in the shared metrics."""

from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from amocrm.api import client, request_log, request_metrics
from amocrm.api.errors import AmoError
from amocrm.models import RequestLog
from amocrm.tests.conftest import BASE_URL

pytestmark = pytest.mark.usefixtures("limiter", "english")

ACCOUNT = {"id": 31, "name": "Acoustic", "subdomain": "acoustic"}


@pytest.mark.parametrize(
    ("url", "template"),
    [
        (f"{BASE_URL}/api/v4/account", "/api/v4/account"),
        (f"{BASE_URL}/api/v4/leads/123/notes?page=2", "/api/v4/leads/{id}/notes"),
        (f"{BASE_URL}/api/v4/contacts?query=998901234567", "/api/v4/contacts"),
        (f"{BASE_URL}/api/v4/leads/unsorted/0c5d4e3f-8a7b-4d6b-9c1e-5f0c9a523f4e", "/api/v4/leads/unsorted/{id}"),
    ],
)
def test_it_names_the_endpoint_without_ids_or_query(url, template):
    assert request_log.endpoint_template(url) == template


@responses.activate
def test_it_logs_an_answered_request(connected):
    responses.get(f"{BASE_URL}/api/v4/account", json=ACCOUNT)

    client.get_account(connected)

    row = RequestLog.objects.get()
    assert (row.method, row.endpoint, row.status, row.error_kind, row.error) == ("GET", "/api/v4/account", 200, "", "")
    assert row.duration_ms >= 0


@responses.activate
def test_it_logs_amocrms_own_words_for_a_refusal(connected):
    responses.post(f"{BASE_URL}/api/v4/leads/complex", status=402, json={"title": "Payment Required", "status": 402})

    with pytest.raises(AmoError):
        client.create_complex_leads(connected, [{"name": "x"}])

    row = RequestLog.objects.get()
    assert (row.status, row.error_kind, row.error) == (402, "payment_required", "HTTP 402: Payment Required")


@responses.activate
def test_it_logs_a_request_that_got_no_answer(connected):
    responses.get(f"{BASE_URL}/api/v4/contacts", body=requests.ConnectTimeout("timed out"))

    with pytest.raises(AmoError):
        client.find_contacts(connected, "998901234567")

    row = RequestLog.objects.get()
    assert (row.endpoint, row.status, row.error_kind) == ("/api/v4/contacts", None, "network")
    assert row.error.startswith("amoCRM is unreachable") and "998901234567" not in row.error


@responses.activate
def test_it_counts_requests_in_redis_for_every_process(connected):
    responses.get(f"{BASE_URL}/api/v4/account", json=ACCOUNT)

    client.get_account(connected)
    client.get_account(connected)

    assert request_metrics.requests_by_status() == {("GET", "/api/v4/account", "200"): 2}
    (durations,) = request_metrics.durations()
    assert durations.buckets[-1] == ("+Inf", 2)


@responses.activate
def test_it_still_sends_and_logs_when_redis_cannot_count(connected, monkeypatch, caplog):
    monkeypatch.setattr(request_metrics, "_redis", lambda: request_metrics._connect("redis://127.0.0.1:9/0"))
    responses.get(f"{BASE_URL}/api/v4/account", json=ACCOUNT)

    client.get_account(connected)

    assert RequestLog.objects.count() == 1 and "Could not count an amoCRM request" in caplog.text


@pytest.mark.parametrize(
    ("status", "endpoint", "kind"),
    [(200, "/api/v4/account", ""), (204, "/api/v4/leads", ""), (400, "/api/v4/leads/complex", "validation"),
     (400, "/oauth2/access_token", "token_request"), (403, "/api/v4/account", "blocked"),
     (429, "/api/v4/leads", "rate_limited"), (504, "/api/v4/leads", "server"), (None, "/api/v4/leads", "network"),
     (301, "/api/v4/account", "unexpected")],
)  # fmt: skip
def test_it_names_the_kind_of_each_failure(status, endpoint, kind):
    assert request_log.error_kind(status, endpoint) == kind


def test_it_keeps_two_weeks_of_requests(db):
    now = timezone.now()
    for age in (timedelta(days=15), timedelta(days=13)):
        RequestLog.objects.create(method="GET", endpoint="/api/v4/account", status=200, duration_ms=1,
                                  created_at=now - age)  # fmt: skip

    assert request_log.prune(now) == 1
    assert RequestLog.objects.get().created_at == now - timedelta(days=13)


def test_it_leaves_refused_lead_data_out_of_the_error_rate(db):
    for status, kind in [(200, ""), (400, "validation"), (502, "server"), (None, "network")]:
        RequestLog.objects.create(method="POST", endpoint="/api/v4/leads/complex", status=status, error_kind=kind,
                                  duration_ms=1)  # fmt: skip

    assert request_log.error_rate(timedelta(minutes=15)) == request_log.ErrorRate(failed=2, total=3)
