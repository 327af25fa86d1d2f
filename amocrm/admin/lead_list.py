"""The lead list, extended with each lead's way to amoCRM (leads/ itself knows nothing of amoCRM)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from amocrm import tasks
from amocrm.admin.deal_columns import DealOutcomeFilter, DealStageColumns, DealStageFields, delivery_of
from amocrm.admin.export import LeadExportMixin
from amocrm.models import Delivery, DeliveryState, Settings
from leads.admin import LeadAdmin
from leads.models import Lead


class DeliveryInline(DealStageFields, admin.StackedInline):
    model = Delivery
    can_delete = False
    extra = 0
    fields = readonly_fields = (
        "state", "attempts", "last_attempt_at", "next_attempt_at", "delivered_at", "amocrm_lead_id",
        "amocrm_contact_id", "last_error", "last_error_path", "deal_stage_now", "stage_history",
    )  # fmt: skip

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class LeadWithDeliveryAdmin(LeadExportMixin, DealStageColumns, LeadAdmin):
    list_display = (
        *LeadAdmin.list_display, "delivery_state", "delivery_attempts", "delivery_error", "deal_link", "deal_stage",
        "answered_in",
    )  # fmt: skip
    list_filter = (*LeadAdmin.list_filter, "amocrm_delivery__state", DealOutcomeFilter)
    list_select_related = ("amocrm_delivery", "amocrm_delivery__deal_stage")
    inlines = [DeliveryInline]
    actions = ["retry_delivery"]

    @admin.display(description=_("amoCRM"), ordering="amocrm_delivery__state")
    def delivery_state(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        # No delivery row yet: the lead is stored and its dispatch (which creates the row) is on its way.
        return delivery.get_state_display() if delivery else DeliveryState.PENDING.label

    @admin.display(description=_("attempts"))
    def delivery_attempts(self, lead: Lead) -> int:
        delivery = delivery_of(lead)
        return delivery.attempts if delivery else 0

    @admin.display(description=_("last error"))
    def delivery_error(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        if not delivery or not delivery.last_error:
            return ""
        where = f" ({delivery.last_error_path})" if delivery.last_error_path else ""
        return f"{delivery.last_error}{where}"[:200]

    @admin.display(description=_("deal"))
    def deal_link(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        if not delivery or not delivery.deal_created:
            return ""
        url = delivery.deal_url(Settings.load().base_url)
        return format_html('<a href="{}" target="_blank" rel="noopener">#{}</a>', url, delivery.amocrm_lead_id)

    @admin.action(description=_("Retry delivery to amoCRM"))
    def retry_delivery(self, request, queryset: QuerySet[Lead]) -> None:
        retried = 0
        for delivery in Delivery.objects.filter(lead__in=queryset).exclude(state=DeliveryState.DELIVERED):
            delivery.retry_now()
            tasks.queue_push(delivery.id)
            retried += 1
        message = ngettext("%(count)d lead queued for delivery.", "%(count)d leads queued for delivery.", retried)
        self.message_user(request, message % {"count": retried}, messages.SUCCESS)


admin.site.unregister(Lead)
admin.site.register(Lead, LeadWithDeliveryAdmin)
