"""A lead's page as staff read it: read-only, the lead admin's groups (the person, what they asked, where they came
from, …) and then amoCRM: the deal link, its stage and history, and the delivery's attempts and errors only when
there were any.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from amocrm.admin.deal_columns import delivery_of, initial_stage_name, stage_history_html, stage_label
from amocrm.admin.follow_up_fields import FollowUpFields, follow_up_fields, repeat_link
from amocrm.admin.route_preview import route_html
from amocrm.models import DeliveryState, Settings
from leads.models import Lead

# The amoCRM group follows the lead admin's first three (the person, what they asked, where they came from).
AMOCRM_AFTER = 3
# Kept off the page: ids and the intake's own bookkeeping.
NOT_SHOWN = {"id", "dispatch_pending", "idempotency_key", "idempotency_body", "extra"}


class LeadPage(FollowUpFields):
    """Mixed into the lead admin: the page is a view, never a form (leads are records of what a visitor sent)."""

    def has_change_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> list[str]:
        return [name for _title, group in self.get_fieldsets(request, obj) for name in group["fields"]]

    def get_fieldsets(self, request: HttpRequest, obj: Lead | None = None) -> list[tuple]:
        """The person, what they asked, where they came from, then amoCRM, then the lead admin's finer groups (first
        touch, click ids, visitor); a field Lead gains without a group shows under "More"."""
        own = list(super().get_fieldsets(request, obj))
        fieldsets = [*own[:AMOCRM_AFTER], (_("amoCRM"), {"fields": self._amocrm_fields(obj)}), *own[AMOCRM_AFTER:]]
        placed = {name for _title, group in fieldsets for name in group["fields"]}
        more = [f.name for f in Lead._meta.fields if f.name not in placed and f.name not in NOT_SHOWN]
        return fieldsets + ([(_("More"), {"fields": more})] if more else [])

    def _amocrm_fields(self, lead: Lead | None) -> tuple[str, ...]:
        delivery = delivery_of(lead) if lead else None
        troubled = delivery is not None and (delivery.attempts > 1 or bool(delivery.last_error))
        extra = ("amocrm_attempts", "amocrm_error") if troubled else ()
        fields = ("amocrm_state", "amocrm_deal", "amocrm_stage", "amocrm_history", "amocrm_route")
        return (*fields, *follow_up_fields(delivery), *extra)

    @admin.display(description=_("delivery"))
    def amocrm_state(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        if delivery is None:
            return DeliveryState.PENDING.label
        if delivery.delivered_at:
            return f"{delivery.get_state_display()} ({_short(delivery.delivered_at)})"
        return delivery.get_state_display()

    @admin.display(description=_("deal"))
    def amocrm_deal(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        if delivery is None or not delivery.deal_created:
            return "—"
        if delivery.is_repeat:
            return repeat_link(delivery)
        url = delivery.deal_url(Settings.load().base_url)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description=_("deal stage"))
    def amocrm_stage(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        return stage_label(delivery, initial_stage_name) if delivery else "—"

    @admin.display(description=_("stage history"))
    def amocrm_history(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        return stage_history_html(delivery) if delivery else "—"

    @admin.display(description=_("where this lead goes"))
    def amocrm_route(self, lead: Lead) -> str:
        return route_html(lead)

    @admin.display(description=_("attempts"))
    def amocrm_attempts(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        when = _short(delivery.last_attempt_at) if delivery.last_attempt_at else "—"
        text = _("%(count)d, the last at %(when)s") % {"count": delivery.attempts, "when": when}
        if delivery.state == DeliveryState.RETRYING:
            text += ", " + _("the next at %(when)s") % {"when": _short(delivery.next_attempt_at)}
        return text

    @admin.display(description=_("last error"))
    def amocrm_error(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        where = f" ({delivery.last_error_path})" if delivery.last_error_path else ""
        return f"{delivery.last_error}{where}" or "—"


def _short(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
