"""How managers are told to act: the follow-up task every new deal gets, counted in the shop's working hours.

These are the defaults of the settings row (the default routing rule); a routing rule may override the task.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext_lazy as _

# amoCRM's built-in task types: 1 is "Call", 2 "Meeting"; accounts may add their own.
# Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api
CALL_TASK_TYPE_ID = 1
DEFAULT_FOLLOW_UP_TEXT = "{name} ga qayta qo'ng'iroq qiling: {phone}"
SHOP_ZONE = "Asia/Tashkent"


@dataclass(frozen=True)
class WorkingHours:
    days: frozenset[int] = field(default_factory=lambda: frozenset(range(6)))  # 0 = Monday … 5 = Saturday
    opens: time = time(9)
    closes: time = time(19)
    zone: str = SHOP_ZONE

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from `start` to `end` (aware datetimes); 0 if end is not after start."""
        zone = ZoneInfo(self.zone)
        start, end = start.astimezone(zone), end.astimezone(zone)
        total, day = 0.0, start.date()
        while day <= end.date():
            if day.weekday() in self.days:
                opens, closes = datetime.combine(day, self.opens, zone), datetime.combine(day, self.closes, zone)
                total += max((min(closes, end) - max(opens, start)).total_seconds(), 0.0)
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of working time after `start`: a lead at 22:40 is due at opening time plus them."""
        zone = ZoneInfo(self.zone)
        moment, left = start.astimezone(zone), max(seconds, 0.0)
        if not self.days or self.opens >= self.closes:
            return moment + timedelta(seconds=left)  # no working time at all: count plain time rather than never
        while True:
            opens = datetime.combine(moment.date(), self.opens, zone)
            closes = datetime.combine(moment.date(), self.closes, zone)
            if moment.weekday() in self.days and moment < closes:
                moment = max(moment, opens)
                if (closes - moment).total_seconds() >= left:
                    return moment + timedelta(seconds=left)
                left -= (closes - moment).total_seconds()
            moment = datetime.combine(moment.date() + timedelta(days=1), time(0), zone)


class ManagerWorkSettings(models.Model):
    """The follow-up task and the working hours, as fields of the one settings row."""

    follow_up_enabled = models.BooleanField(
        _("create a follow-up task"),
        default=True,
        help_text=_("Every new deal gets a task for its responsible manager. Turn off if amoCRM already makes one."),
    )
    follow_up_task_type_id = models.PositiveBigIntegerField(_("task type"), default=CALL_TASK_TYPE_ID)
    follow_up_text = models.CharField(
        _("task text"),
        max_length=500,
        default=DEFAULT_FOLLOW_UP_TEXT,
        help_text=_("Placeholders: {name}, {phone}, {source}, {product_id}"),
    )
    follow_up_minutes = models.PositiveIntegerField(
        _("task due after (working minutes)"), default=15, help_text=_("Counted in working hours")
    )
    working_days = models.CharField(
        _("working days"), max_length=20, default="0,1,2,3,4,5", help_text=_("0 = Monday … 6 = Sunday")
    )
    opens_at = models.TimeField(_("opens at"), default=time(9))
    closes_at = models.TimeField(_("closes at"), default=time(19))
    repeat_joins_open_deal = models.BooleanField(
        _("repeat requests join the open deal"),
        default=True,
        help_text=_("A contact's new request becomes a note and a task on their open deal instead of a second deal"),
    )

    class Meta:
        abstract = True

    def working_hours(self) -> WorkingHours:
        days = frozenset(int(day) for day in self.working_days.split(",") if day.strip().isdigit())
        return WorkingHours(days=days, opens=self.opens_at, closes=self.closes_at)
