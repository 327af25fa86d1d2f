"""GET /metrics: off without a token, closed without the right one, and numbers that follow real amoCRM traffic."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from amocrm.api import client as amocrm
from amocrm.models import Delivery, DeliveryState
from amocrm.tasks import push_lead
from leads.models import Lead
from notifications.models import MessageKind, MessageState, TelegramMessage

pytestmark = pytest.mark.django_db

TOKEN = "metrics-s3cret"


@pytest.fixture
def metrics_token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(client_) -> dict[tuple[str, tuple], float]:
    response = client_.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.content.decode())
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in families for s in family.samples}


def test_it_is_off_while_no_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_it_refuses_a_scrape_without_the_token(client, metrics_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = client.get("/metrics", **extra)

    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_it_counts_real_requests_to_amocrm_by_endpoint_and_status(client, metrics_token, sandbox_conn):
    amocrm.get_account(sandbox_conn)
    amocrm.list_pipelines(sandbox_conn)
    sandbox_conn.access_token = "not-a-valid-token"  # the next call gets 401, refreshes, and retries
    amocrm.get_account(sandbox_conn)

    samples = _scrape(client)

    def requests_to(method, endpoint, status):
        labels = (("endpoint", endpoint), ("method", method), ("status", status))
        return samples.get(("acoustic_amocrm_requests_total", labels))

    assert requests_to("GET", "/api/v4/account", "200") == 2
    assert requests_to("GET", "/api/v4/account", "401") == 1
    assert requests_to("GET", "/api/v4/leads/pipelines", "200") == 1
    assert requests_to("POST", "/oauth2/access_token", "200") == 2  # the exchange on connect, then the refresh
    count = ("acoustic_amocrm_request_duration_seconds_count", (("endpoint", "/api/v4/account"), ("method", "GET")))
    assert samples[count] == 3


def test_it_reports_deliveries_and_telegram_messages_by_state(client, metrics_token, db):
    for state in (DeliveryState.PENDING, DeliveryState.RETRYING, DeliveryState.NEEDS_ATTENTION):
        lead = Lead.objects.create(name="A", phone="+998901234567", phone_raw="x")
        Delivery.objects.create(lead=lead, state=state)
        TelegramMessage.objects.create(kind=MessageKind.LEAD, lead=lead, chat_id="-1", text="…",
                                       state=MessageState.SENT)  # fmt: skip

    samples = _scrape(client)

    assert samples[("acoustic_amocrm_deliveries", (("state", "retrying"),))] == 1
    assert samples[("acoustic_amocrm_deliveries", (("state", "delivered"),))] == 0
    assert samples[("acoustic_amocrm_queue_depth", ())] == 2
    assert samples[("acoustic_amocrm_oldest_pending_age_seconds", ())] >= 0
    assert samples[("acoustic_telegram_messages", (("kind", "lead"), ("state", "sent")))] == 3
    assert samples[("acoustic_amocrm_connected", ())] == 0


def test_it_reports_the_delivery_of_a_real_lead(client, metrics_token, sandbox_conn):
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="x")
    delivery = Delivery.objects.create(lead=lead)

    push_lead(delivery.id)

    samples = _scrape(client)
    assert samples[("acoustic_amocrm_deliveries", (("state", "delivered"),))] == 1
    assert samples[("acoustic_amocrm_queue_depth", ())] == 0
    labels = (("endpoint", "/api/v4/leads/complex"), ("method", "POST"), ("status", "200"))
    assert samples[("acoustic_amocrm_requests_total", labels)] == 1
