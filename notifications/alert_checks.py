"""What stops leads reaching amoCRM (or soon will), one plain function per condition: a Finding while it holds.

Each finding says what happened and what to do, in words staff can act on without reading logs.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from acoustic.encryption import list_rows, unreadable_rows
from amocrm.api import request_log
from amocrm.delivery import stats
from amocrm.models import ConnectionState, Delivery, DeliveryState, RoutingRule, Settings
from notifications.models import AlertKind

ERROR_RATE_MIN_REQUESTS = 10  # fewer requests than this say nothing about amoCRM's health
ERROR_RATE_SHARE = 0.5


@dataclass(frozen=True)
class Finding:
    what: str  # what happened
    todo: str  # what to do about it
    since: datetime | None = None  # when it began, where that is known


def reconnect_needed(conn: Settings, now: datetime) -> Finding | None:
    if conn.state not in (ConnectionState.NEEDS_RECONNECT, ConnectionState.DISCONNECTED):
        return None
    what = _("amoCRM no longer accepts this site's access: %(reason)s") % {
        "reason": conn.last_error or conn.get_state_display()
    }
    todo = _("Open %(url)s and press Reconnect. New leads are kept and sent once it is connected.")
    return Finding(what, todo % {"url": settings_page()}, conn.last_error_at)


def sending_paused(conn: Settings, now: datetime) -> Finding | None:
    if not conn.sending_paused_reason:
        return None
    what = _("amoCRM refuses new deals, so sending is paused: %(reason)s") % {"reason": conn.sending_paused_reason}
    todo = _("Settle it with amoCRM (payment, or support if the account is blocked), then press Test connection "
             "at %(url)s. Leads are kept and sent then.")  # fmt: skip
    return Finding(what, todo % {"url": settings_page()})


def leads_need_attention(conn: Settings, now: datetime) -> Finding | None:
    stuck = Delivery.objects.filter(state=DeliveryState.NEEDS_ATTENTION)
    count = stuck.count()
    if not count:
        return None
    latest = stuck.order_by("-last_attempt_at", "-id").first()
    what = ngettext(
        "%(count)d lead was refused by amoCRM and needs a person. Latest reason: %(error)s",
        "%(count)d leads were refused by amoCRM and need a person. Latest reason: %(error)s",
        count,
    ) % {"count": count, "error": latest.last_error}
    todo = _("Open %(url)s, fix the cause (often the field mapping in the amoCRM settings), select the leads and "
             "run \"Retry delivery to amoCRM\".")  # fmt: skip
    url = f"{settings.SITE_URL}{reverse('admin:leads_lead_changelist')}?amocrm_delivery__state__exact=needs_attention"
    return Finding(what, todo % {"url": url}, stuck.aggregate(since=Min("last_attempt_at"))["since"])


def leads_undelivered(conn: Settings, now: datetime) -> Finding | None:
    since = stats.oldest_undelivered_since()
    if since is None or now - since < timedelta(minutes=settings.ALERT_UNDELIVERED_MINUTES):
        return None
    count = stats.undelivered_count()
    what = ngettext(
        "%(count)d lead has not reached amoCRM yet; it has waited %(age)s.",
        "%(count)d leads have not reached amoCRM yet; the oldest has waited %(age)s.",
        count,
    ) % {"count": count, "age": timesince(since, now)}
    todo = _("Check the connection and the latest amoCRM errors at %(url)s, and that the Celery worker runs.")
    return Finding(what, todo % {"url": settings_page()}, since)


def token_expiring(conn: Settings, now: datetime) -> Finding | None:
    if not conn.is_connected or not conn.credentials_end_soon(now):
        return None
    when = formats.date_format(timezone.localtime(conn.credentials_end_at), "DATETIME_FORMAT")
    what = _("The amoCRM token ends on %(date)s; after that no lead reaches amoCRM.") % {"date": when}
    if conn.uses_long_lived_token:
        todo = _("Create a new long-lived token in amoCRM and paste it at %(url)s.")
    else:
        todo = _("Press Reconnect at %(url)s (the daily token refresh is failing: see the latest errors there).")
    return Finding(what, todo % {"url": settings_page()})


def error_rate_high(conn: Settings, now: datetime) -> Finding | None:
    rate = request_log.error_rate(now=now)
    if rate.total < ERROR_RATE_MIN_REQUESTS or rate.share < ERROR_RATE_SHARE:
        return None
    latest = request_log.recent_errors(1)
    what = _("%(failed)d of %(total)d requests to amoCRM failed in the last 15 minutes. Latest: %(error)s") % {
        "failed": rate.failed, "total": rate.total, "error": latest[0].error if latest else "—",
    }  # fmt: skip
    todo = _("See the latest errors at %(url)s. If amoCRM itself is down, leads wait and are sent once it is back.")
    return Finding(what, todo % {"url": settings_page()})


def routing_rules_broken(conn: Settings, now: datetime) -> Finding | None:
    """Rules passed over because what they name is gone from amoCRM: one alert for all of them, not one per lead."""
    broken = list(RoutingRule.objects.filter(active=True).exclude(broken_reason="").order_by("position", "id"))
    if not broken:
        return None
    reasons = "; ".join(f"{rule.name}: {rule.broken_reason}" for rule in broken)
    what = ngettext(
        "%(count)d routing rule is not used: %(reasons)s. Its leads go by the next rules or the default.",
        "%(count)d routing rules are not used: %(reasons)s. Their leads go by the next rules or the default.",
        len(broken),
    ) % {"count": len(broken), "reasons": reasons}
    todo = _("Open %(url)s and choose a pipeline, stage and manager amoCRM has, or switch the rule off.")
    url = settings.SITE_URL + reverse("admin:amocrm_routingrule_changelist")
    return Finding(what, todo % {"url": url}, min(rule.broken_since or now for rule in broken))


def secrets_unreadable(now: datetime) -> Finding | None:
    """Not one of CHECKS: it needs no amoCRM settings row, which may be the very thing no key opens."""
    rows = unreadable_rows()
    if not rows:
        return None
    what = _("No key in FERNET_KEYS opens %(rows)s, so that part of the site has stopped.") % {"rows": list_rows(rows)}
    todo = _("Put the old key back in FERNET_KEYS and run `python manage.py rotate_encryption_keys`, or run it "
             "with --clear-unreadable and enter those secrets again. Leads are kept meanwhile.")  # fmt: skip
    return Finding(what, todo)


def settings_page() -> str:
    return settings.SITE_URL + reverse("admin:amocrm_settings_changelist")


CHECKS: dict[str, Callable[[Settings, datetime], Finding | None]] = {
    AlertKind.RECONNECT: reconnect_needed,
    AlertKind.SENDING_PAUSED: sending_paused,
    AlertKind.NEEDS_ATTENTION: leads_need_attention,
    AlertKind.UNDELIVERED: leads_undelivered,
    AlertKind.TOKEN_EXPIRING: token_expiring,
    AlertKind.ERROR_RATE: error_rate_high,
    AlertKind.ROUTING_RULES: routing_rules_broken,
}
