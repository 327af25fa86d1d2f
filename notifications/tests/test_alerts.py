"""Alerts: each said once when it starts, again no sooner than 30 minutes while it lasts, and once when it clears."""

from datetime import timedelta

import pytest
from django.utils import timezone

from amocrm.models import ConnectionState, Delivery, DeliveryState, RequestLog, RoutingRule, Settings
from leads.models import Lead
from notifications import alerts
from notifications.models import Alert, AlertKind, MessageKind, TelegramMessage, TelegramSettings
from notifications.tasks import check_alerts
from notifications.tests.conftest import ALERTS_CHAT

pytestmark = pytest.mark.django_db


def _delivery(**fields) -> Delivery:
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="x")
    return Delivery.objects.create(lead=lead, **fields)


def _needs_reconnect(conn: Settings) -> None:
    conn.mark_needs_reconnect("amoCRM revoked access (integration off, or token already used).")


def _paused(conn: Settings) -> None:
    conn.pause_sending("The amoCRM subscription has ended: amoCRM accepts no new deals until it is paid.")


def _lead_refused(conn: Settings) -> None:
    _delivery(state=DeliveryState.NEEDS_ATTENTION, last_error="amoCRM rejected the data: name: too long",
              last_attempt_at=timezone.now())  # fmt: skip


def _lead_waiting(conn: Settings) -> None:
    delivery = _delivery(state=DeliveryState.RETRYING)
    Lead.objects.filter(id=delivery.lead_id).update(created_at=timezone.now() - timedelta(minutes=11))


def _token_ending(conn: Settings) -> None:
    conn.refresh_token_expires_at = timezone.now() + timedelta(days=10)
    conn.save()


def _requests_failing(conn: Settings) -> None:
    # Dated 25 minutes ahead: these tests move time on by passing `now`, and the window looks 15 minutes back.
    at = timezone.now() + timedelta(minutes=25)
    for status, kind, error in [(200, "", "")] * 5 + [(502, "server", "HTTP 502: Bad Gateway")] * 5:
        RequestLog.objects.create(
            method="POST", endpoint="/api/v4/leads/complex", status=status, error_kind=kind, error=error,
            duration_ms=80, created_at=at,
        )  # fmt: skip


def _rule_broken(conn: Settings) -> None:
    rule = RoutingRule.objects.create(name="Dealers", source="dealer_form", status_id=999)
    rule.mark_broken("amoCRM no longer has stage #999")


def _rule_fixed(conn: Settings) -> None:
    RoutingRule.objects.get().mark_working()  # the next lead found its stage again (or staff saved the rule)


def _reconnect(conn: Settings) -> None:
    conn.store_tokens("access-2", "refresh-2", 86400)


def _resume(conn: Settings) -> None:
    conn.resume_sending()  # a lead went through, or staff pressed Test


def _retry_refused(conn: Settings) -> None:
    Delivery.objects.update(state=DeliveryState.DELIVERED)


def _requests_recovered(conn: Settings) -> None:
    RequestLog.objects.filter(status=502).update(status=200, error_kind="", error="")


CASES = {
    AlertKind.RECONNECT: (_needs_reconnect, _reconnect, "press Reconnect"),
    AlertKind.SENDING_PAUSED: (_paused, _resume, "subscription has ended"),
    AlertKind.NEEDS_ATTENTION: (_lead_refused, _retry_refused, "name: too long"),
    AlertKind.UNDELIVERED: (_lead_waiting, _retry_refused, "1 lead has not reached amoCRM yet"),
    AlertKind.TOKEN_EXPIRING: (_token_ending, _reconnect, "The amoCRM token ends on"),
    AlertKind.ERROR_RATE: (_requests_failing, _requests_recovered, "5 of 10 requests to amoCRM failed"),
    AlertKind.ROUTING_RULES: (_rule_broken, _rule_fixed, "Dealers: amoCRM no longer has stage #999"),
}


def _alert_texts() -> list[str]:
    return list(TelegramMessage.objects.filter(kind=MessageKind.ALERT).order_by("id").values_list("text", flat=True))


@pytest.fixture
def conn(connected) -> Settings:
    return connected


@pytest.mark.parametrize("kind", CASES)
def test_it_says_each_alert_once_while_it_lasts(kind, conn, telegram):
    start, _clear, says = CASES[kind]
    start(conn)
    now = timezone.now()

    alerts.evaluate_alerts(now)
    alerts.evaluate_alerts(now + timedelta(minutes=29))

    (text,) = _alert_texts()
    assert says in text and "What to do:" in text and "Since:" in text
    alert = Alert.objects.get(kind=kind)
    assert alert.active and alert.last_sent == now
    assert set(Alert.objects.filter(active=True).values_list("kind", flat=True)) == {kind}


@pytest.mark.parametrize("kind", CASES)
def test_it_repeats_an_alert_after_30_minutes(kind, conn, telegram):
    start, _clear, _says = CASES[kind]
    start(conn)
    now = timezone.now()

    alerts.evaluate_alerts(now)
    alerts.evaluate_alerts(now + timedelta(minutes=30))

    first, second = _alert_texts()
    assert second.startswith(f"⚠️ <b>Still: {Alert.objects.get(kind=kind).get_kind_display()}</b>")


@pytest.mark.parametrize("kind", CASES)
def test_it_says_once_when_an_alert_clears(kind, conn, telegram):
    start, clear, _says = CASES[kind]
    start(conn)
    now = timezone.now()
    alerts.evaluate_alerts(now)

    clear(Settings.load())
    alerts.evaluate_alerts(now + timedelta(minutes=1))
    alerts.evaluate_alerts(now + timedelta(minutes=40))

    texts = _alert_texts()
    assert len(texts) == 2 and texts[1].startswith("✅ <b>Resolved:")
    alert = Alert.objects.get(kind=kind)
    assert not alert.active and alert.resolved_at == now + timedelta(minutes=1)


def test_it_says_what_to_do_with_a_link_to_the_settings_page(conn, telegram, settings):
    _needs_reconnect(conn)

    check_alerts()

    message = TelegramMessage.objects.get(kind=MessageKind.ALERT)
    assert message.chat_id == ALERTS_CHAT
    assert f"Open {settings.SITE_URL}/admin/amocrm/settings/ and press Reconnect" in message.text


def test_it_escapes_amocrms_words_in_an_alert(conn, telegram):
    conn.mark_needs_reconnect("refused <token> & more")

    alerts.evaluate_alerts()

    assert "refused &lt;token&gt; &amp; more" in _alert_texts()[0]


def test_it_keeps_the_alert_state_while_alerts_are_off_and_says_it_once_they_are_on(conn, telegram):
    TelegramSettings.objects.update(alerts_enabled=False)
    _needs_reconnect(conn)
    alerts.evaluate_alerts()
    assert Alert.objects.get(kind=AlertKind.RECONNECT).active and not _alert_texts()

    TelegramSettings.objects.update(alerts_enabled=True)
    alerts.evaluate_alerts()

    assert len(_alert_texts()) == 1


def test_it_does_not_resolve_aloud_what_it_never_said(conn, db):
    _needs_reconnect(conn)
    alerts.evaluate_alerts()
    _reconnect(Settings.load())
    TelegramSettings.objects.update(bot_token="123:" + "a" * 30, alerts_chat_id="-100")

    alerts.evaluate_alerts()

    assert not Alert.objects.get(kind=AlertKind.RECONNECT).active and not _alert_texts()


def test_it_waits_for_the_configured_minutes_before_calling_a_lead_late(conn, telegram, settings):
    settings.ALERT_UNDELIVERED_MINUTES = 30
    _lead_waiting(conn)  # 11 minutes old

    assert AlertKind.UNDELIVERED not in alerts.evaluate_alerts()


def test_it_ignores_a_few_failed_requests(conn, telegram):
    for _ in range(9):
        RequestLog.objects.create(method="GET", endpoint="/api/v4/account", status=None, error_kind="network",
                                  duration_ms=5000)  # fmt: skip

    assert AlertKind.ERROR_RATE not in alerts.evaluate_alerts()


def test_it_counts_a_disconnected_integration_as_needing_reconnect(conn, telegram):
    conn.mark_disconnected()

    assert alerts.evaluate_alerts() == [AlertKind.RECONNECT]
    assert Settings.load().state == ConnectionState.DISCONNECTED
