"""`manage.py amocrm_test`: check settings, connection and token, read the account, report what was found."""

from dataclasses import dataclass, field
from datetime import datetime

import redis
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from amocrm.api import client, ratelimit
from amocrm.api.answers import Pipeline
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.delivery import batch
from amocrm.models import Delivery, Settings
from leads.models import Lead

TEST_LEAD_NAME = "Test lead from acoustic-leads"
TEST_PHONE = "+998900000000"


@dataclass
class Report:
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value), in the order found
    problem: str = ""  # one line saying what is wrong; empty when all is well

    @property
    def ok(self) -> bool:
        return not self.problem

    def add(self, label: str, value: str) -> None:
        self.facts.append((label, value))


def run_checks(send_test_lead: bool = False) -> Report:
    """Settings, connection and token (refreshed if due), account, pipeline and stage; optionally a test lead."""
    conn, report = Settings.load(), Report()
    try:
        _check_account(conn, report)
        _resume_sending(conn, report)
        report.problem = _check_pipeline(conn, client.list_pipelines(conn), report)
        _add_token_expiry(conn, report)
        if send_test_lead and report.ok:
            report.add(_("test lead"), push_test_lead(conn))
    except AmoError as error:
        report.problem = problem_line(error)
    report.add(_("rate limiter"), _limiter_state())
    return report


def problem_line(error: AmoError) -> str:
    headline = _HEADLINES.get(error.kind, gettext_lazy("amoCRM check failed"))
    return f"{headline}: {error.message}"


_HEADLINES = {
    ErrorKind.NOT_CONFIGURED: gettext_lazy("Not configured"),
    ErrorKind.NOT_CONNECTED: gettext_lazy("Not connected"),
    ErrorKind.REVOKED: gettext_lazy("Token revoked, reconnect in the admin"),
    ErrorKind.UNAUTHORIZED: gettext_lazy("Token not accepted"),
    ErrorKind.NETWORK: gettext_lazy("amoCRM unreachable"),
    ErrorKind.SERVER: gettext_lazy("amoCRM unreachable"),
    ErrorKind.BLOCKED: gettext_lazy("Blocked"),
    ErrorKind.PAYMENT_REQUIRED: gettext_lazy("Payment required"),
    ErrorKind.RATE_LIMITED: gettext_lazy("Rate limited"),
}


def push_test_lead(conn: Settings) -> str:
    """A real lead through the delivery engine, end to end (stored, sent, deal created); the deal's URL."""
    lead = Lead.objects.create(
        name=TEST_LEAD_NAME, phone=TEST_PHONE, phone_raw=TEST_PHONE, source="amocrm_test",
        message=_("Sent by manage.py amocrm_test to check the connection."),
    )  # fmt: skip
    item = Delivery.objects.create(lead=lead)
    batch.deliver_batch(conn, Delivery.claim_due(1, first_id=item.id))
    item.refresh_from_db()
    if not item.deal_created:
        # The lead stays queued: the sweeper delivers it once amoCRM accepts it.
        raise AmoError(ErrorKind.UNEXPECTED, _("The test lead was not delivered: %s") % item.last_error)
    return item.deal_url(conn.base_url)


def _check_account(conn: Settings, report: Report) -> None:
    account = client.get_account(conn)  # refuses when not configured or connected; refreshes a due token
    report.add(_("account"), f"{account.name} ({account.subdomain}, id {account.id})")
    report.add(_("host"), conn.base_url)


def _resume_sending(conn: Settings, report: Report) -> None:
    """The account answers: lift a 402/403 pause, as the admin's Test button does; the next lead decides."""
    if conn.sending_paused_reason:
        report.add(_("sending"), _("resumed (it was paused: %(reason)s)") % {"reason": conn.sending_paused_reason})
        conn.resume_sending()


def _check_pipeline(conn: Settings, pipelines: list[Pipeline], report: Report) -> str:
    """The configured pipeline and stage by name; a problem line if either is gone from amoCRM."""
    if conn.pipeline_id is None:
        main = next((p.name for p in pipelines if p.is_main), "-")
        report.add(_("pipeline"), _("not chosen: new deals go to the main pipeline (%(name)s)") % {"name": main})
        return ""
    pipeline = next((p for p in pipelines if p.id == conn.pipeline_id), None)
    if pipeline is None:
        message = _("The chosen pipeline (id %(id)s) no longer exists in amoCRM: choose another.")
        return message % {"id": conn.pipeline_id}
    report.add(_("pipeline"), pipeline.name)
    if conn.status_id is None:
        report.add(_("stage"), _("not chosen: the pipeline's first stage"))
        return ""
    status = next((s for s in pipeline.statuses if s.id == conn.status_id), None)
    if status is None:
        return _("The chosen stage (id %(id)s) is not in pipeline %(name)s: choose another.") % {
            "id": conn.status_id,
            "name": pipeline.name,
        }
    report.add(_("stage"), status.name)
    return ""


def _add_token_expiry(conn: Settings, report: Report) -> None:
    if conn.uses_long_lived_token:
        report.add(_("long-lived token expires"), _when(conn.long_lived_token_expires_at))
        return
    report.add(_("access token expires"), _when(conn.access_token_expires_at))
    report.add(_("refresh token expires"), _when(conn.refresh_token_expires_at))


def _when(moment: datetime | None) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i T") if moment else _("unknown")


def _limiter_state() -> str:
    try:
        state = ratelimit.state()
    except redis.RedisError:
        return _("unavailable (Redis does not answer)")
    text = _("%(rate)s requests/s, next slot in %(next).2f s") % {
        "rate": state.requests_per_second,
        "next": state.next_slot_in_seconds,
    }
    if state.paused_for_seconds:
        text += _(", paused for %(seconds).0f s after a 429") % {"seconds": state.paused_for_seconds}
    return text
