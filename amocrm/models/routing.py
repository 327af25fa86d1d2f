"""Where leads go: ordered routing rules staff define, and rotation pools that share leads among managers.

The first active rule a lead matches decides; the settings row is the default route after the last rule
(amocrm/delivery/routing.py). A pool's turn counter lives in its row and is advanced atomically, so every worker
process on every host hands leads out in one sequence.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import Lead

MAX_WEIGHT = 10


class TextMatch(models.TextChoices):
    EXACT = "exact", _("is")
    CONTAINS = "contains", _("contains")


class FollowUpChoice(models.TextChoices):
    DEFAULT = "default", _("as in the settings")
    NONE = "none", _("no task")
    OWN = "own", _("this rule's task")


class RotationPool(models.Model):
    """Managers who take leads in turn; a weight of 2 gets twice the leads of a weight of 1."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    turn = models.PositiveBigIntegerField(_("leads given out"), default=0, editable=False)

    class Meta:
        verbose_name = _("rotation pool")
        verbose_name_plural = _("rotation pools")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def take_turn(self) -> int:
        """The next turn number (0, 1, 2, …), each given once across all processes and hosts.

        The UPDATE takes the row's write lock first, so no other transaction reads the same number in between.
        """
        with transaction.atomic():
            RotationPool.objects.filter(pk=self.pk).update(turn=F("turn") + 1)
            self.turn = RotationPool.objects.filter(pk=self.pk).values_list("turn", flat=True).get()
        return self.turn - 1

    def weighted_order(self, available: set[int] | None = None) -> list[int]:
        """One round of user ids, each as often as their weight, spread out (smooth weighted round-robin);
        only users in `available` when it is given."""
        members = [(m.user_id, m.weight) for m in self.members.all() if available is None or m.user_id in available]
        total, current, order = sum(weight for _user, weight in members), dict.fromkeys(dict(members), 0), []
        for _step in range(total):
            for user_id, weight in members:
                current[user_id] += weight
            chosen = max(current, key=current.__getitem__)  # the first of equals: the pool's order
            current[chosen] -= total
            order.append(chosen)
        return order


class RotationMember(models.Model):
    pool = models.ForeignKey(RotationPool, on_delete=models.CASCADE, related_name="members")
    position = models.PositiveIntegerField(_("order"), default=0)
    user_id = models.PositiveBigIntegerField(_("manager"))
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_WEIGHT)]
    )

    class Meta:
        verbose_name = _("manager in the pool")
        verbose_name_plural = _("managers in the pool")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["pool", "user_id"], name="rotation_member_once_per_pool")]

    def __str__(self) -> str:
        return f"{self.pool}: {self.user_id}"


class RoutingRule(models.Model):
    """Leads that meet every condition given here go where it says; a blank target keeps the default's."""

    position = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    # Conditions: every one that is filled in must hold; a rule without any matches every lead.
    source = models.CharField(_("source"), max_length=50, blank=True, help_text=_("e.g. callback, contact_form"))
    product_id = models.CharField(_("product id"), max_length=100, blank=True)
    utm_source = models.CharField(_("UTM source"), max_length=255, blank=True)
    utm_source_match = models.CharField(
        _("UTM source match"), max_length=10, choices=TextMatch.choices, default=TextMatch.EXACT
    )
    utm_campaign = models.CharField(_("UTM campaign"), max_length=255, blank=True)
    utm_campaign_match = models.CharField(
        _("UTM campaign match"), max_length=10, choices=TextMatch.choices, default=TextMatch.EXACT
    )
    page_url_prefix = models.CharField(
        _("page URL starts with"), max_length=500, blank=True, help_text=_("e.g. acoustic.uz/catalog/pianos")
    )
    # Where the lead goes.
    pipeline_id = models.PositiveBigIntegerField(_("pipeline"), null=True, blank=True)
    status_id = models.PositiveBigIntegerField(_("stage"), null=True, blank=True)
    tags = models.CharField(_("tags"), max_length=255, blank=True, help_text=_("Comma-separated"))
    responsible_user_id = models.PositiveBigIntegerField(_("responsible user"), null=True, blank=True)
    rotation_pool = models.ForeignKey(
        RotationPool, models.PROTECT, null=True, blank=True, related_name="rules", verbose_name=_("rotation pool")
    )
    follow_up = models.CharField(
        _("follow-up task"), max_length=10, choices=FollowUpChoice.choices, default=FollowUpChoice.DEFAULT
    )
    follow_up_task_type_id = models.PositiveBigIntegerField(_("task type"), null=True, blank=True)
    follow_up_text = models.CharField(_("task text"), max_length=500, blank=True)
    follow_up_minutes = models.PositiveIntegerField(_("task due after (working minutes)"), null=True, blank=True)
    # Why leads that match fall through to the next rules (something named here is gone from amoCRM); the alert
    # reads it, a save of the rule or the next lead it routes clears it.
    broken_reason = models.TextField(_("not used because"), blank=True, editable=False)
    broken_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.responsible_user_id and self.rotation_pool_id:
            raise ValidationError(_("Choose one responsible user or a rotation pool, not both."))

    def matches(self, lead: Lead) -> bool:
        return all(
            (
                not self.source or _same(lead.source, self.source),
                not self.product_id or lead.product_id.strip() == self.product_id.strip(),
                not self.utm_source or _text_matches(lead.utm_source, self.utm_source, self.utm_source_match),
                not self.utm_campaign or _text_matches(lead.utm_campaign, self.utm_campaign, self.utm_campaign_match),
                not self.page_url_prefix or _bare_url(lead.page_url).startswith(_bare_url(self.page_url_prefix)),
            )
        )

    def tag_names(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    def mark_broken(self, reason: str) -> None:
        """Recorded once, not per lead: the row changes only when the reason does."""
        if reason != self.broken_reason:
            self.broken_reason, self.broken_since = reason, timezone.now()
            RoutingRule.objects.filter(pk=self.pk).update(broken_reason=reason, broken_since=self.broken_since)

    def mark_working(self) -> None:
        if self.broken_reason:
            self.broken_reason, self.broken_since = "", None
            RoutingRule.objects.filter(pk=self.pk).update(broken_reason="", broken_since=None)


def _same(value: str, wanted: str) -> bool:
    return value.strip().casefold() == wanted.strip().casefold()


def _text_matches(value: str, wanted: str, how: str) -> bool:
    if how == TextMatch.CONTAINS:
        return wanted.strip().casefold() in value.casefold()
    return _same(value, wanted)


def _bare_url(url: str) -> str:
    """Staff type "acoustic.uz/catalog" as often as "https://www.acoustic.uz/catalog": compare without either."""
    bare = url.strip().casefold().removeprefix("https://").removeprefix("http://")
    return bare.removeprefix("www.")
