"""The lead list, extended with each lead's way to amoCRM (leads/ itself knows nothing of amoCRM).

At 1280 px every column staff use daily fits: name, phone (one line, tap to call), source, when, amoCRM state,
deal link, stage, answered in. Attempts and errors are on the lead's page (lead_page.py).
"""

import phonenumbers
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from amocrm import tasks
from amocrm.admin.deal_columns import DealOutcomeFilter, DealStageColumns, delivery_of, with_initial_stage
from amocrm.admin.export import LeadExportMixin
from amocrm.admin.follow_up_fields import repeat_link
from amocrm.admin.lead_page import LeadPage
from amocrm.models import Delivery, DeliveryState, Settings
from leads.admin import LeadAdmin
from leads.models import Lead


class LeadWithDeliveryAdmin(LeadExportMixin, LeadPage, DealStageColumns, LeadAdmin):
    list_display = (
        "name", "phone_link", "source", "received", "delivery_state", "deal_link", "deal_stage", "answered_in",
    )  # fmt: skip
    list_filter = (*LeadAdmin.list_filter, "amocrm_delivery__state", DealOutcomeFilter)
    list_select_related = ("amocrm_delivery", "amocrm_delivery__deal_stage")
    actions = ["retry_delivery"]

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        with_initial_stage(list(changelist.result_list))
        return changelist

    @admin.display(description=_("phone"), ordering="phone")
    def phone_link(self, lead: Lead) -> str:
        return format_html('<a class="phone" href="tel:{}">{}</a>', lead.phone, _readable(lead.phone))

    @admin.display(description=_("received"), ordering="created_at")
    def received(self, lead: Lead) -> str:
        return date_format(timezone.localtime(lead.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("amoCRM"), ordering="amocrm_delivery__state")
    def delivery_state(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        # No delivery row yet: the lead is stored and its dispatch (which creates the row) is on its way.
        return delivery.get_state_display() if delivery else DeliveryState.PENDING.label

    @admin.display(description=_("deal"))
    def deal_link(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        if not delivery or not delivery.deal_created:
            return ""
        if delivery.is_repeat:
            return repeat_link(delivery)
        url = delivery.deal_url(Settings.load().base_url)
        return format_html('<a href="{}" target="_blank" rel="noopener">#{}</a>', url, delivery.amocrm_lead_id)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        """Staff who may change deliveries: the lead page itself is read-only for everybody (lead_page.py)."""
        return request.user.has_perm("amocrm.change_delivery")

    @admin.action(description=_("Retry delivery to amoCRM"), permissions=["retry"])
    def retry_delivery(self, request, queryset: QuerySet[Lead]) -> None:
        chosen = Delivery.objects.filter(lead__in=queryset).exclude(state=DeliveryState.DELIVERED)
        chosen_ids = list(chosen.values_list("id", flat=True))
        retried = Delivery.retry_now_unless_being_sent(chosen_ids)
        for delivery_id in retried:
            tasks.queue_push(delivery_id)
        message = ngettext("%(count)d lead queued for delivery.", "%(count)d leads queued for delivery.", len(retried))
        self.message_user(request, message % {"count": len(retried)}, messages.SUCCESS)
        if skipped := len(chosen_ids) - len(retried):
            self.message_user(request, _being_sent(skipped), messages.WARNING)


def _being_sent(count: int) -> str:
    return ngettext(
        "%(count)d lead is being sent right now and was left alone: retrying it could make a second deal. "
        "Its attempt ends within 5 minutes; retry it then if it still needs it.",
        "%(count)d leads are being sent right now and were left alone: retrying them could make second deals. "
        "Their attempts end within 5 minutes; retry them then if they still need it.",
        count,
    ) % {"count": count}


def _readable(e164: str) -> str:
    """+998 90 123 45 67 as Uzbek numbers are written; the stored text if it does not parse."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


admin.site.unregister(Lead)
admin.site.register(Lead, LeadWithDeliveryAdmin)
