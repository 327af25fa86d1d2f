"""The lead list's view of each deal in amoCRM: won, lost or in progress (and where), how fast it was answered,
and the stages it went through. lead_list.py mixes these into the lead admin.
"""

from django.contrib import admin
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from amocrm.models import DealStage, Delivery, Outcome
from amocrm.sync import outcomes
from leads.models import Lead

_STATUS = "amocrm_delivery__deal_stage__status_id"
NOT_IN_AMOCRM = "not_in_amocrm"
_ANSWER_TIME = ExpressionWrapper(
    F("amocrm_delivery__deal_stage__first_changed_at") - F("created_at"), output_field=DurationField()
)


class DealOutcomeFilter(admin.SimpleListFilter):
    title = _("deal in amoCRM")
    parameter_name = "deal"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [*Outcome.choices, (NOT_IN_AMOCRM, _("Not yet in amoCRM"))]

    def queryset(self, request, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        value = self.value()
        if value in outcomes.BY_OUTCOME:
            return queryset.filter(outcomes.BY_OUTCOME[value])
        if value == NOT_IN_AMOCRM:
            return queryset.filter(outcomes.NOT_IN_AMOCRM)
        return queryset


class DealStageColumns:
    """Lead list columns: the deal's stage, and the time from the form to the first stage change."""

    @admin.display(description=_("deal stage"), ordering=_STATUS)
    def deal_stage(self, lead: Lead) -> str:
        stage = _deal_stage(lead)
        if stage is not None:
            return stage.label
        delivery = delivery_of(lead)
        return str(Outcome.IN_PROGRESS.label) if delivery and delivery.deal_created else "—"

    @admin.display(description=_("answered in"), ordering=_ANSWER_TIME)
    def answered_in(self, lead: Lead) -> str:
        stage = _deal_stage(lead)
        if stage is None or stage.first_changed_at is None:
            return "—"
        return timesince(lead.created_at, stage.first_changed_at, depth=2)


class DealStageFields:
    """The delivery box on a lead's page: the deal's stage now and its history of stages."""

    @admin.display(description=_("deal stage"))
    def deal_stage_now(self, delivery: Delivery) -> str:
        stage = _stage_of(delivery)
        return stage.label if stage else "—"

    @admin.display(description=_("stage history"))
    def stage_history(self, delivery: Delivery) -> str:
        changes = list(delivery.stage_changes.all()) if delivery.pk else []
        if not changes:
            return "—"
        rows = (
            (_when(change.changed_at), change.pipeline_name or change.pipeline_id,
             change.status_name or change.status_id, change.get_source_display())
            for change in changes
        )  # fmt: skip
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {} / {} ({})</li>", rows))


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def delivery_of(lead: Lead) -> Delivery | None:
    try:
        return lead.amocrm_delivery
    except Delivery.DoesNotExist:
        return None


def _stage_of(delivery: Delivery) -> DealStage | None:
    try:
        return delivery.deal_stage
    except DealStage.DoesNotExist:
        return None


def _deal_stage(lead: Lead) -> DealStage | None:
    delivery = delivery_of(lead)
    return _stage_of(delivery) if delivery else None
