"""The lead list's view of each deal in amoCRM: won, lost or in progress (and where), how fast it was answered,
and the stages it went through. lead_list.py mixes these into the lead admin.
"""

from collections.abc import Callable

from django.contrib import admin
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from amocrm.api import catalog
from amocrm.models import DealStage, Delivery, Outcome, Settings
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
        delivery = delivery_of(lead)
        # The list's rows carry the first stage's name (see with_initial_stage): one catalog read per page.
        return stage_label(delivery, lambda: getattr(lead, "initial_stage_name", None)) if delivery else "—"

    @admin.display(description=_("answered in"), ordering=_ANSWER_TIME)
    def answered_in(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        stage = stage_of(delivery) if delivery else None
        if stage is None or stage.first_changed_at is None:
            return "—"
        return timesince(lead.created_at, stage.first_changed_at, depth=2)


def stage_label(delivery: Delivery, initial_name: Callable[[], str | None]) -> str:
    """Won, Lost, "In progress: <stage>"; before amoCRM reports any change, the stage new deals start in."""
    stage = stage_of(delivery)
    if stage is not None and (stage.status_id is not None or stage.deleted_at):
        return stage.label
    if not delivery.deal_created:
        return "—"
    name = initial_name()
    return gettext("In progress: %(stage)s") % {"stage": name} if name else str(Outcome.IN_PROGRESS.label)


def initial_stage_name() -> str | None:
    """The name of the stage the site's new deals start in, from the account catalog; None when unknown."""
    conn = Settings.load()
    found = catalog.load_or_none(conn) if conn.is_connected else None
    stage = found.initial_stage(conn) if found else None
    return (found.names(*stage)[1] or None) if stage else None


def with_initial_stage(leads: list[Lead]) -> None:
    """Give each listed lead whose deal has not moved yet the first stage's name (one catalog read for all)."""
    waiting = [lead for lead in leads if (d := delivery_of(lead)) and d.deal_created and stage_of(d) is None]
    name = initial_stage_name() if waiting else None
    for lead in waiting:
        lead.initial_stage_name = name


def stage_history_html(delivery: Delivery) -> str:
    """The stages the deal went through, oldest first, each with when and who reported it."""
    changes = list(delivery.stage_changes.all())
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


def stage_of(delivery: Delivery) -> DealStage | None:
    try:
        return delivery.deal_stage
    except DealStage.DoesNotExist:
        return None
