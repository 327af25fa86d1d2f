"""Where each of the site's deals stands in amoCRM: its stage now and the history of its stage changes."""

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from amocrm.models.delivery import Delivery

# Every pipeline has these two closing stages under the same ids, so a stage is named by (pipeline_id, status_id),
# never by the status id alone; "won" and "lost" hold in whichever pipeline.
# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads_pipelines
WON_STATUS_ID = 142
LOST_STATUS_ID = 143
CLOSED_STATUS_IDS = frozenset({WON_STATUS_ID, LOST_STATUS_ID})


class Outcome(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


def outcome_of(status_id: int | None) -> Outcome:
    if status_id == WON_STATUS_ID:
        return Outcome.WON
    if status_id == LOST_STATUS_ID:
        return Outcome.LOST
    return Outcome.IN_PROGRESS


class StageSource(models.TextChoices):
    WEBHOOK = "webhook", _("webhook")
    RECONCILE = "reconcile", _("reconcile")


@dataclass(frozen=True)
class StageNews:
    """What amoCRM said about one deal, and when (amoCRM's own time of the change)."""

    lead_id: int
    pipeline_id: int | None
    status_id: int | None
    at: datetime
    source: StageSource
    moved: bool = False  # amoCRM itself says the stage changed (status_lead)
    deleted: bool = False


class DealStage(models.Model):
    """The deal's stage in amoCRM as last reported; one row per delivered lead that amoCRM told us about."""

    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, primary_key=True, related_name="deal_stage")
    pipeline_id = models.PositiveBigIntegerField(_("pipeline"), null=True, blank=True)
    status_id = models.PositiveBigIntegerField(_("stage"), null=True, blank=True)
    pipeline_name = models.CharField(_("pipeline name"), max_length=255, blank=True)
    status_name = models.CharField(_("stage name"), max_length=255, blank=True)
    changed_at = models.DateTimeField(_("stage changed"), null=True, blank=True)
    first_changed_at = models.DateTimeField(_("first stage change"), null=True, blank=True)
    # amoCRM's time of the news applied last: news older than this (a late retry) must not undo newer news.
    reported_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted in amoCRM"), null=True, blank=True)

    class Meta:
        verbose_name = _("deal stage")
        verbose_name_plural = _("deal stages")
        indexes = [
            # The dashboard's outcomes and answer times per lead, read from the index alone (PostgreSQL).
            models.Index(
                fields=["delivery"], include=["status_id", "first_changed_at", "deleted_at"], name="dealstage_dashboard"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.status_id)

    @property
    def label(self) -> str:
        """The stage as staff read it: Won, Lost, "In progress: Negotiation" or "Deleted in amoCRM"."""
        if self.deleted_at:
            return gettext("Deleted in amoCRM")
        if self.status_id is None or self.outcome != Outcome.IN_PROGRESS:
            return str(self.outcome.label)
        name = self.status_name or f"#{self.status_id}"
        return gettext("In progress: %(stage)s") % {"stage": name}

    def is_stale(self, news: StageNews) -> bool:
        return self.reported_at is not None and news.at < self.reported_at

    def differs(self, news: StageNews, starting_stage: tuple[int, int] | None) -> bool:
        """A change unless it is the stage we know, or (knowing none yet) the stage new deals start in."""
        known = (self.pipeline_id, self.status_id) if self.status_id is not None else starting_stage
        return known is not None and known != (news.pipeline_id, news.status_id)

    def set_current(self, news: StageNews, names: tuple[str, str], moved: bool) -> None:
        self.pipeline_id, self.status_id = news.pipeline_id, news.status_id
        self.pipeline_name, self.status_name = names
        self.reported_at, self.deleted_at = news.at, None  # news after a delete: the deal was restored
        if moved:
            self.changed_at = news.at
            self.first_changed_at = min(self.first_changed_at or news.at, news.at)
        self.save()

    def mark_deleted(self, at: datetime) -> None:
        self.deleted_at = self.reported_at = at
        self.save(update_fields=["deleted_at", "reported_at"])


class DealStageChange(models.Model):
    """One stage the deal moved to, and when: the history the lead's page shows."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="stage_changes")
    pipeline_id = models.PositiveBigIntegerField(_("pipeline"))
    status_id = models.PositiveBigIntegerField(_("stage"))
    pipeline_name = models.CharField(_("pipeline name"), max_length=255, blank=True)
    status_name = models.CharField(_("stage name"), max_length=255, blank=True)
    changed_at = models.DateTimeField(_("changed at"))
    source = models.CharField(_("reported by"), max_length=20, choices=StageSource.choices)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("deal stage change")
        verbose_name_plural = _("deal stage changes")
        ordering = ["changed_at", "id"]
        constraints = [
            # The same change reported twice (status_lead and update_lead, or a retried webhook) is one row.
            models.UniqueConstraint(
                fields=["delivery", "pipeline_id", "status_id", "changed_at"], name="amocrm_stage_change_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pipeline_name or self.pipeline_id} / {self.status_name or self.status_id}"
