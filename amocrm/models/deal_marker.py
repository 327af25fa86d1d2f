"""The marker that finds a deal again: the site's own "Site lead ID" deal field, as fields of the settings row."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DealMarkerSettings(models.Model):
    """Which deal field carries each lead's marker, why it could not be made, and how far old names were cleaned."""

    marker_field_id = models.PositiveBigIntegerField(
        _("deal field for the site's lead number"),
        null=True,
        blank=True,
        help_text=_(
            "A text field; lets a retry find a deal whose creation was not confirmed. Found or created on connect "
            '("Site lead ID"); without it the lead number goes in the deal name.'
        ),
    )
    # Why the site's own marker field could not be found or made (amoCRM refused); blank once it exists.
    marker_field_problem = models.TextField(_("marker field problem"), blank=True)
    marker_field_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # How far `amocrm_move_markers` got: deliveries up to this id have their marker out of the deal name.
    markers_moved_through = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @classmethod
    def claim_marker_field_check(cls, every: timedelta) -> bool:
        """True for one caller per `every` across all processes: it may look for (or make) the marker field."""
        now = timezone.now()
        due = models.Q(marker_field_checked_at__isnull=True) | models.Q(marker_field_checked_at__lte=now - every)
        return cls.objects.filter(due, pk=1).update(marker_field_checked_at=now) == 1

    def use_marker_field(self, field_id: int) -> None:
        self.marker_field_id, self.marker_field_problem = field_id, ""
        type(self).objects.filter(pk=1).update(marker_field_id=field_id, marker_field_problem="")

    def record_marker_field_problem(self, reason: str) -> None:
        self.marker_field_problem = reason
        type(self).objects.filter(pk=1).update(marker_field_problem=reason)

    def record_markers_moved_through(self, delivery_id: int) -> None:
        self.markers_moved_through = delivery_id
        type(self).objects.filter(pk=1).update(markers_moved_through=delivery_id)
