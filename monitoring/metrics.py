"""What /metrics serves, in Prometheus text format, read fresh at every scrape from state every process shares.

Request counters and latencies come from Redis (amocrm.api.request_metrics: every process adds to the same hashes);
queue depth, deliveries, Telegram messages and alerts are counted in the database. Nothing is kept in this
process's memory, so whichever gunicorn worker answers the scrape, the numbers are the same.
"""

import logging
from collections.abc import Iterator

import redis
from django.db.models import Count
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from amocrm.api import request_metrics
from amocrm.delivery import stats
from amocrm.models import Settings
from notifications.models import Alert, TelegramMessage

logger = logging.getLogger(__name__)


class SiteCollector:
    """A prometheus-client collector that reads Redis and the database on each collect()."""

    def collect(self) -> Iterator[Metric]:
        yield from amocrm_requests()
        yield from amocrm_deliveries()
        yield from telegram_messages()
        yield from alerts()


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SiteCollector())
    return generate_latest(registry)


def amocrm_requests() -> Iterator[Metric]:
    try:
        counts, durations = request_metrics.requests_by_status(), request_metrics.durations()
    except redis.RedisError:
        logger.warning("Redis unavailable: /metrics leaves out the amoCRM request counters", exc_info=True)
        return
    requests = CounterMetricFamily(
        "acoustic_amocrm_requests", "Requests sent to amoCRM, by endpoint and HTTP status (none: no answer).",
        labels=["method", "endpoint", "status"],
    )  # fmt: skip
    for labels, value in sorted(counts.items()):
        requests.add_metric(labels, value)
    latency = HistogramMetricFamily(
        "acoustic_amocrm_request_duration_seconds", "Time amoCRM took to answer.", labels=["method", "endpoint"]
    )
    for series in durations:
        latency.add_metric([series.method, series.endpoint], series.buckets, series.total_seconds)
    yield from (requests, latency)


def amocrm_deliveries() -> Iterator[Metric]:
    counts = stats.counts_by_state()
    by_state = GaugeMetricFamily("acoustic_amocrm_deliveries", "Leads by amoCRM delivery state.", labels=["state"])
    for state, value in counts.items():
        by_state.add_metric([state], value)
    depth = sum(counts[state] for state in stats.UNDELIVERED)
    yield by_state
    yield GaugeMetricFamily("acoustic_amocrm_queue_depth", "Leads on their way to amoCRM.", value=depth)
    yield GaugeMetricFamily(
        "acoustic_amocrm_oldest_pending_age_seconds", "Age of the oldest lead on its way to amoCRM (0: none).",
        value=stats.oldest_undelivered_age(),
    )  # fmt: skip
    yield CounterMetricFamily("acoustic_amocrm_delivery_retries", "Delivery attempts after the first.",
                              value=stats.retries())  # fmt: skip
    yield from _connection()


def _connection() -> Iterator[Metric]:
    conn = Settings.load()
    yield GaugeMetricFamily("acoustic_amocrm_connected", "1 while amoCRM is connected.", value=int(conn.is_connected))
    yield GaugeMetricFamily("acoustic_amocrm_sending_paused", "1 while amoCRM refuses deals (402/403).",
                            value=int(bool(conn.sending_paused_reason)))  # fmt: skip


def telegram_messages() -> Iterator[Metric]:
    family = GaugeMetricFamily("acoustic_telegram_messages", "Telegram messages by kind and state.",
                               labels=["kind", "state"])  # fmt: skip
    rows = TelegramMessage.objects.values_list("kind", "state").annotate(n=Count("id")).order_by("kind", "state")
    for kind, state, value in rows:
        family.add_metric([kind, state], value)
    yield family


def alerts() -> Iterator[Metric]:
    family = GaugeMetricFamily("acoustic_alert_active", "1 while the alert holds.", labels=["kind"])
    for kind, active in Alert.objects.values_list("kind", "active").order_by("kind"):
        family.add_metric([kind], int(active))
    yield family
