"""When the shop answers: the working hours the unanswered-lead alert counts in.

Until the routing settings (a working-hours calendar edited in the admin) exist, this is the one place that says
so: Monday to Saturday, 9:00 to 19:00 in Tashkent. `current()` is what callers ask; point it at the routing
setting once that is merged, and nothing else changes.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WorkingHours:
    days: frozenset[int] = field(default_factory=lambda: frozenset(range(6)))  # 0 = Monday … 5 = Saturday
    opens: time = time(9)
    closes: time = time(19)
    zone: str = "Asia/Tashkent"

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from `start` to `end` (aware datetimes); 0 if end is not after start."""
        zone = ZoneInfo(self.zone)
        start, end = start.astimezone(zone), end.astimezone(zone)
        total, day = 0.0, start.date()
        while day <= end.date():
            if day.weekday() in self.days:
                opens = datetime.combine(day, self.opens, zone)
                closes = datetime.combine(day, self.closes, zone)
                total += max((min(closes, end) - max(opens, start)).total_seconds(), 0.0)
            day += timedelta(days=1)
        return total


DEFAULT = WorkingHours()


def current() -> WorkingHours:
    """The shop's working hours (the default until the routing settings provide them)."""
    return DEFAULT
