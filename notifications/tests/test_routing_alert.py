"""A routing rule naming what amoCRM no longer has: every lead it would take falls through, staff hear it once."""

import pytest

from amocrm.delivery import routing
from amocrm.models import Delivery, RoutingRule
from leads.models import Lead
from notifications import alerts
from notifications.models import Alert, AlertKind, MessageKind, TelegramMessage

pytestmark = pytest.mark.django_db


def _deliveries(count: int) -> list[Delivery]:
    leads = [Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="x", source="callback")
             for _ in range(count)]  # fmt: skip
    return [Delivery.objects.create(lead=lead) for lead in leads]


def test_leads_through_a_broken_rule_raise_one_alert(sandbox_conn, telegram):
    RoutingRule.objects.create(name="Dealers", source="callback", pipeline_id=999)
    first, second, third = _deliveries(3)
    routing.assign(sandbox_conn, [first, second])
    routing.assign(sandbox_conn, [third])

    alerts.evaluate_alerts()
    alerts.evaluate_alerts()

    assert TelegramMessage.objects.filter(kind=MessageKind.ALERT).count() == 1
    assert Alert.objects.get(kind=AlertKind.ROUTING_RULES).active


def test_the_alert_names_the_rule_and_why(sandbox_conn, telegram):
    RoutingRule.objects.create(name="Dealers", source="callback", pipeline_id=999)
    routing.assign(sandbox_conn, _deliveries(1))

    alerts.evaluate_alerts()

    text = TelegramMessage.objects.get(kind=MessageKind.ALERT).text
    assert "Dealers: amoCRM no longer has pipeline #999" in text
