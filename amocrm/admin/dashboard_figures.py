"""The dashboard's figures, each one aggregate query: what the ads bring, what became of it, how fast it was answered.

Everything is counted by the database (Count with filters, TruncDate, a median per group), never by looping over
leads in Python, so the page stays fast with hundreds of thousands of leads (bench/dashboard.py).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.timesince import timesince

from amocrm.admin import answer_median
from amocrm.delivery.stats import UNDELIVERED
from amocrm.models import DeliveryState
from amocrm.sync import outcomes
from amocrm.sync.outcomes import AnswerSeconds
from leads.models import Lead

UNANSWERED_SHOWN = 20
BREAKDOWNS = ("source", "utm_campaign")
_STATE = "amocrm_delivery__state"
WAITING = Q(amocrm_delivery__isnull=True) | Q(**{f"{_STATE}__in": UNDELIVERED})
NEEDS_ATTENTION = Q(**{_STATE: DeliveryState.NEEDS_ATTENTION})
DELIVERED = Q(**{_STATE: DeliveryState.DELIVERED})


@dataclass(frozen=True)
class Period:
    """Local calendar days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Totals:
    leads: int
    delivered: int
    waiting: int
    needs_attention: int


@dataclass(frozen=True)
class GroupRow:
    """One source or campaign: its leads, what became of them, and the median answer time."""

    name: str
    leads: int
    won: int
    lost: int
    in_progress: int
    median_answer_seconds: float | None

    @property
    def median_answer(self) -> str:
        return duration_text(self.median_answer_seconds)

    @property
    def conversion(self) -> float:
        """Won, as a share of all its leads, in per cent."""
        return 100.0 * self.won / self.leads if self.leads else 0.0


def duration_text(seconds: float | None) -> str:
    """ "1 hour, 5 minutes" in the active language; "—" for no figure."""
    if seconds is None:
        return "—"
    now = timezone.now()
    return timesince(now - timedelta(seconds=seconds), now, depth=2)


def leads_in(period: Period, source: str = "") -> QuerySet[Lead]:
    rows = Lead.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    return rows.filter(source=source) if source else rows


def recent_totals(today: date, source: str = "") -> dict[int, Totals]:
    """Totals for the last 1, 7 and 30 days (today included), in one query."""
    spans = (1, 7, 30)
    rows = leads_in(Period(today - timedelta(days=max(spans) - 1), today), source).order_by()
    counts = {}
    for days in spans:
        recent = Q(created_at__gte=Period(today - timedelta(days=days - 1), today).start)
        counts |= {
            f"leads_{days}": Count("id", filter=recent),
            f"delivered_{days}": Count("id", filter=recent & DELIVERED),
            f"waiting_{days}": Count("id", filter=recent & WAITING),
            f"attention_{days}": Count("id", filter=recent & NEEDS_ATTENTION),
        }
    found = rows.aggregate(**counts)
    return {
        days: Totals(found[f"leads_{days}"], found[f"delivered_{days}"], found[f"waiting_{days}"],
                     found[f"attention_{days}"])
        for days in spans
    }  # fmt: skip


def leads_per_day(period: Period, source: str = "") -> dict[date, dict[str, int]]:
    """For each day of the period, leads by source (days without leads are there, empty)."""
    per_day: dict[date, dict[str, int]] = {day: {} for day in period.days()}
    rows = leads_in(period, source).annotate(day=TruncDate("created_at")).values_list("day", "source")
    for day, name, count in rows.annotate(n=Count("id")).order_by():
        per_day.setdefault(day, {})[name] = count
    return per_day


def breakdown(period: Period, by: str, source: str = "") -> list[GroupRow]:
    """Leads by `by` (source or utm_campaign): won, lost, in progress, the median answer time; largest first.

    Any database; on PostgreSQL `breakdowns` does both groupings in one pass instead.
    """
    rows = leads_in(period, source).order_by().values(group=F(by))
    counted = rows.annotate(
        leads=Count("id"),
        won=Count("id", filter=outcomes.WON),
        lost=Count("id", filter=outcomes.LOST),
        in_progress=Count("id", filter=outcomes.IN_PROGRESS),
    )
    medians = answer_median.median_answer_seconds(leads_in(period, source), by)
    groups = [
        GroupRow(row["group"], row["leads"], row["won"], row["lost"], row["in_progress"], medians.get(row["group"]))
        for row in counted
    ]
    return sorted(groups, key=lambda row: (-row.leads, row.name))


def breakdowns(period: Period, source: str = "") -> dict[str, list[GroupRow]]:
    """The breakdowns by source and by UTM campaign: on PostgreSQL from one scan of the period's leads."""
    if connection.vendor == "postgresql":
        return _breakdowns_in_one_pass(period, source)
    return {by: breakdown(period, by, source) for by in BREAKDOWNS}


def _breakdowns_in_one_pass(period: Period, source: str) -> dict[str, list[GroupRow]]:
    rows = leads_in(period, source).order_by().annotate(
        won=_flag(outcomes.WON), lost=_flag(outcomes.LOST), in_progress=_flag(outcomes.IN_PROGRESS),
        answer=AnswerSeconds(),
    )  # fmt: skip
    inner, params = rows.values(*BREAKDOWNS, "won", "lost", "in_progress", "answer").query.sql_with_params()
    sql = f"""
        SELECT GROUPING(source), CASE WHEN GROUPING(source) = 0 THEN source ELSE utm_campaign END, COUNT(*),
               COUNT(*) FILTER (WHERE won), COUNT(*) FILTER (WHERE lost), COUNT(*) FILTER (WHERE in_progress),
               PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY answer)
        FROM ({inner}) AS period_leads
        GROUP BY GROUPING SETS ((source), (utm_campaign))
    """  # noqa: S608 - `inner` is SQL Django compiled, its values are parameters
    found: dict[str, list[GroupRow]] = {by: [] for by in BREAKDOWNS}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for by_campaign, *figures in cursor.fetchall():
            found[BREAKDOWNS[by_campaign]].append(GroupRow(*figures))
    return {by: sorted(groups, key=lambda row: (-row.leads, row.name)) for by, groups in found.items()}


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def unanswered(period: Period, source: str = "", limit: int = UNANSWERED_SHOWN) -> tuple[list[Lead], int]:
    """Leads whose deal nobody has moved yet, longest waiting first (up to `limit`), and how many there are."""
    rows = leads_in(period, source).filter(outcomes.UNANSWERED).select_related("amocrm_delivery")
    # The count rides along on each row (a window over the whole match), so one query gives both.
    shown = list(rows.annotate(total=Window(Count("id"))).order_by("created_at", "id")[:limit])
    return shown, shown[0].total if shown else 0


def sources() -> list[str]:
    """Every source that has sent a lead, for the filter."""
    return list(Lead.objects.order_by("source").values_list("source", flat=True).distinct())
