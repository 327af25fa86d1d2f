"""The settings page's health panel: leads waiting, the oldest one, and amoCRM's latest errors."""

from datetime import timedelta

import pytest
from django.utils import timezone

from amocrm.models import Delivery, DeliveryState, RequestLog
from leads.models import Lead

pytestmark = pytest.mark.django_db

URL = "/admin/amocrm/settings/1/change/"


def _delivery(state: str, age: timedelta = timedelta(0)) -> Delivery:
    delivery = Delivery.objects.create(lead=Lead.objects.create(name="A", phone="+998901234567", phone_raw="x"),
                                       state=state)  # fmt: skip
    Lead.objects.filter(id=delivery.lead_id).update(created_at=timezone.now() - age)
    return delivery


def test_it_counts_leads_by_where_they_are(admin_client, english):
    _delivery(DeliveryState.PENDING, timedelta(minutes=12))
    _delivery(DeliveryState.RETRYING)
    _delivery(DeliveryState.NEEDS_ATTENTION, timedelta(days=2))
    _delivery(DeliveryState.DELIVERED, timedelta(days=3))

    health = admin_client.get(URL).context["health"]

    assert (health.pending, health.retrying, health.needs_attention, health.delivered) == (1, 1, 1, 1)
    assert health.oldest_pending == "12\xa0minutes"  # the lead that needs a person is not "on its way"


def test_it_lists_the_last_20_amocrm_errors_newest_first(admin_client, english):
    for n in range(25):
        RequestLog.objects.create(method="POST", endpoint="/api/v4/leads/complex", status=502, error_kind="server",
                                  error=f"HTTP 502: Bad Gateway #{n}", duration_ms=20)  # fmt: skip
    RequestLog.objects.create(method="GET", endpoint="/api/v4/account", status=200, duration_ms=20)

    response = admin_client.get(URL)

    page = response.content.decode()
    assert "HTTP 502: Bad Gateway #24" in page and "HTTP 502: Bad Gateway #5" in page
    assert "HTTP 502: Bad Gateway #4<" not in page
    assert response.context["health"].error_rate.failed == 25


def test_a_lead_awaiting_its_dispatch_counts_as_pending_from_when_it_was_stored(admin_client, english):
    lead = Lead.objects.create(name="A", phone="+998901234567", phone_raw="x", dispatch_pending=True)
    Lead.objects.filter(id=lead.id).update(created_at=timezone.now() - timedelta(minutes=7))

    health = admin_client.get(URL).context["health"]

    assert health.pending == 1 and health.oldest_pending == "7\xa0minutes"
