"""One lead's way to amoCRM: a leased unit of work whose every attempt is recorded on the row."""

import uuid
from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from acoustic.leased_work import LeasedWork


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")


class Delivery(LeasedWork, models.Model):
    """One lead's way to amoCRM: every attempt is recorded here, so the admin shows what happened."""

    States = DeliveryState
    # Longer than one batch can take (its requests, quick retries, rate-limit waits, timeouts).
    CLAIM_LEASE = timedelta(minutes=5)
    ERROR_FIELDS = ("last_error", "last_error_path")
    ROUTE_FIELDS = (
        "routed_at", "pipeline_id", "status_id", "responsible_user_id", "tags", "route_rule", "route_note",
        "follow_up_task_type_id", "follow_up_text", "follow_up_due_at", "repeat_of_deal_id", "contact_update",
    )  # fmt: skip

    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, related_name="amocrm_delivery")
    state = models.CharField(
        _("delivery"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now, db_index=True)
    # A claim is a lease: a worker that vanished mid-send lets it lapse and the sweeper takes the lead again.
    claim_token = models.CharField(max_length=32, blank=True, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The last attempt may have created the deal although no answer came back: look before sending again.
    outcome_unknown = models.BooleanField(default=False)
    marker = models.CharField(_("marker in amoCRM"), max_length=64, blank=True)
    amocrm_lead_id = models.BigIntegerField(_("amoCRM deal"), null=True, blank=True, db_index=True)
    amocrm_contact_id = models.BigIntegerField(_("amoCRM contact"), null=True, blank=True)
    note_sent = models.BooleanField(default=False)
    # Notes carry no marker: after a notes request with no answer, the deal's recent notes are looked up instead.
    note_outcome_unknown = models.BooleanField(default=False)
    note_attempted_at = models.DateTimeField(null=True, blank=True)
    # Where the deal goes and who is told to call, decided once before the deal is created (delivery/routing.py):
    # a retry sends exactly what was decided, and a rotation never hands the same lead out twice.
    routed_at = models.DateTimeField(_("routed"), null=True, blank=True)
    pipeline_id = models.PositiveBigIntegerField(_("pipeline"), null=True, blank=True)
    status_id = models.PositiveBigIntegerField(_("stage"), null=True, blank=True)
    responsible_user_id = models.PositiveBigIntegerField(_("responsible user"), null=True, blank=True)
    tags = models.CharField(_("tags"), max_length=500, blank=True)
    route_rule = models.CharField(_("routing rule"), max_length=255, blank=True)
    route_note = models.TextField(_("routing note"), blank=True, help_text=_("Why a matching rule was not used"))
    follow_up_task_type_id = models.PositiveBigIntegerField(_("follow-up task type"), null=True, blank=True)
    follow_up_text = models.TextField(_("follow-up task text"), blank=True)
    follow_up_due_at = models.DateTimeField(_("follow-up task due"), null=True, blank=True)
    # A repeat request joins its contact's open deal (delivery/repeats.py): amocrm_lead_id is that deal, and the
    # tag `repeat` is added to it once; the phones and emails amoCRM lacks are written to the contact once.
    repeat_of_deal_id = models.PositiveBigIntegerField(_("repeat of deal"), null=True, blank=True)
    repeat_tagged = models.BooleanField(default=False)
    contact_update = models.JSONField(default=dict, blank=True)  # {"contact_id", "phones", "emails"} still to write
    contact_update_error = models.TextField(_("contact update error"), blank=True)
    # The follow-up task (delivery/follow_up.py): written "about to send" before the request, like the note.
    task_id = models.PositiveBigIntegerField(_("follow-up task"), null=True, blank=True)
    task_outcome_unknown = models.BooleanField(default=False)
    task_error = models.TextField(_("follow-up task error"), blank=True, help_text=_("Why amoCRM refused the task"))
    last_error = models.TextField(_("last error"), blank=True)
    last_error_path = models.CharField(_("field in error"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("amoCRM delivery")
        verbose_name_plural = _("amoCRM deliveries")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            # The dashboard joins every lead of a period to its delivery: read from the index alone (PostgreSQL).
            models.Index(fields=["lead"], include=["state", "amocrm_lead_id"], name="delivery_lead_dashboard"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.get_state_display()}"

    @classmethod
    def claim_due(cls, limit: int, first_id: int | None = None) -> list["Delivery"]:
        """Take up to `limit` deliveries whose time has come (first_id first), safe against other workers."""
        now = timezone.now()
        due = cls.due_condition(now)
        # Each worker takes the run of ids starting at its own first_id, so concurrent pushes (the sweeper queues
        # one per batch) claim different leads instead of racing for the oldest ones and sending batches of one.
        ids = cls._due_ids(due, limit, first_id)
        token = uuid.uuid4().hex
        # The conditional update is the claim: a row another worker took in the meantime no longer matches.
        cls.objects.filter(due, id__in=ids).update(claim_token=token, **cls.claim_changes(now))
        return list(cls.objects.filter(claim_token=token).select_related("lead").order_by("id"))

    @classmethod
    def _due_ids(cls, due: models.Q, limit: int, first_id: int | None) -> list[int]:
        due_rows = cls.objects.filter(due).order_by("id").values_list("id", flat=True)
        if first_id is None:
            return list(due_rows[:limit])
        ids = list(due_rows.filter(id__gte=first_id)[:limit])
        if len(ids) < limit:
            ids += list(due_rows.filter(id__lt=first_id)[: limit - len(ids)])
        return ids

    @classmethod
    def save_all(cls, deliveries: list["Delivery"], *fields: str) -> None:
        """One UPDATE for a whole batch instead of one per lead."""
        if deliveries:
            cls.objects.bulk_update(deliveries, list(fields))

    @classmethod
    def mark_all_delivered(cls, deliveries: list["Delivery"]) -> None:
        now = timezone.now()
        for delivery in deliveries:
            delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, now
            delivery.last_error = delivery.last_error_path = delivery.claim_token = ""
            delivery.claimed_until = None
        fields = ("state", "delivered_at", "last_error", "last_error_path", "claim_token", "claimed_until")
        cls.save_all(deliveries, *fields)

    @classmethod
    def retry_now_unless_being_sent(cls, ids: list[int]) -> list[int]:
        """Staff asked to try these again at once; the ids put back in line. Each row is changed only if no worker
        holds its lease: releasing a delivery mid-send would let a second worker make a second deal.
        """
        now, retried = timezone.now(), []
        for delivery_id in ids:
            free = cls.objects.filter(id=delivery_id).exclude(cls.being_sent_condition(now))
            cleared = {field: "" for field in (*cls.ERROR_FIELDS, "claim_token")}
            if free.update(state=DeliveryState.PENDING, next_attempt_at=now, claimed_until=None, **cleared):
                retried.append(delivery_id)
        return retried

    @property
    def deal_created(self) -> bool:
        return self.amocrm_lead_id is not None

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of_deal_id is not None

    @property
    def needs_task(self) -> bool:
        """A follow-up task was decided and is neither in amoCRM nor refused by it."""
        return self.follow_up_due_at is not None and self.task_id is None and not self.task_error

    @property
    def needs_contact_update(self) -> bool:
        """A repeat request's contact gains a phone or email amoCRM lacks, not written or refused yet."""
        gains = "phones" in self.contact_update or "emails" in self.contact_update
        return gains and not self.contact_update_error

    @property
    def is_routed(self) -> bool:
        return self.routed_at is not None

    def tag_names(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]

    @property
    def is_finished(self) -> bool:
        return self.state in (DeliveryState.DELIVERED, DeliveryState.NEEDS_ATTENTION)

    def deal_url(self, base_url: str) -> str:
        return f"{base_url}/leads/detail/{self.amocrm_lead_id}" if self.deal_created else ""

    def mark_about_to_send(self, marker: str) -> None:
        """Written before the request: if no answer comes, the next attempt looks for this marker first."""
        self.marker = marker
        self.outcome_unknown = True
        self._save("marker", "outcome_unknown")

    def mark_deal_created(self, amocrm_lead_id: int, amocrm_contact_id: int | None) -> None:
        self.amocrm_lead_id = amocrm_lead_id
        self.amocrm_contact_id = amocrm_contact_id
        self.outcome_unknown = False
        self._save("amocrm_lead_id", "amocrm_contact_id", "outcome_unknown")

    def mark_not_created(self) -> None:
        """A look-up found no deal for the marker: sending again cannot make a duplicate."""
        self.outcome_unknown = False
        self._save("outcome_unknown")

    def mark_needs_attention(self, message: str, path: str = "") -> None:
        self.state = DeliveryState.NEEDS_ATTENTION
        self.last_error, self.last_error_path = message, path
        self._release("state", "last_error", "last_error_path")

    def requeue(self) -> None:
        """Back in line at once, without blame (another lead of the batch was at fault)."""
        self.state = DeliveryState.PENDING
        self.next_attempt_at = timezone.now()
        self._release("state", "next_attempt_at")

    def _release(self, *fields: str) -> None:
        self.claim_token = ""
        super()._release(*fields, "claim_token")

    def _save(self, *fields: str) -> None:
        self.save(update_fields=list(fields))
