"""The median answer time per group (source, campaign), computed by the database.

PostgreSQL has the ordered-set aggregate `percentile_cont(0.5)`. SQLite has none, so there the median is taken with
window functions: rank each group's answer times, keep the middle one (or two), and average them, still one query.
"""

from django.db import connection
from django.db.models import Aggregate, F, FloatField, QuerySet

from amocrm.sync.outcomes import AnswerSeconds
from leads.models import Lead


class Median(Aggregate):
    """PostgreSQL: the continuous median of a numeric expression (NULLs ignored)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def in_aggregate() -> dict[str, Aggregate]:
    """The median as an aggregate for the caller's own GROUP BY, where the database has one (PostgreSQL)."""
    return {"median": Median(AnswerSeconds())} if connection.vendor == "postgresql" else {}


def median_answer_seconds(leads: QuerySet[Lead], by: str) -> dict[str, float]:
    """{group: median seconds from form to first stage change}, over the leads that were answered (no PostgreSQL)."""
    answered = leads.order_by().annotate(answer=AnswerSeconds()).filter(answer__isnull=False)
    return _medians_by_window(answered, by)


def _medians_by_window(answered: QuerySet[Lead], by: str) -> dict[str, float]:
    inner, params = answered.values(g=F(by), a=F("answer")).query.sql_with_params()
    sql = f"""
        SELECT g, AVG(a) FROM (
            SELECT g, a, ROW_NUMBER() OVER (PARTITION BY g ORDER BY a) AS r, COUNT(*) OVER (PARTITION BY g) AS n
            FROM ({inner}) AS answered
        ) AS ranked
        WHERE r IN ((n + 1) / 2, (n + 2) / 2)
        GROUP BY g
    """  # noqa: S608 - `inner` is SQL Django compiled, its values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())
