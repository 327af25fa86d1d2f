"""The median answer time per group (source, campaign) where the database has no median of its own (SQLite).

PostgreSQL takes `percentile_cont(0.5)` in the breakdown's own query (dashboard_figures.py). Here the median is
taken with window functions instead: rank each group's answer times, keep the middle one (or two), and average
them, still in one query.
"""

from django.db import connection
from django.db.models import F, QuerySet

from amocrm.sync.outcomes import AnswerSeconds
from leads.models import Lead


def median_answer_seconds(leads: QuerySet[Lead], by: str) -> dict[str, float]:
    """{group: median seconds from form to first stage change}, over the leads that were answered."""
    answered = leads.order_by().annotate(answer=AnswerSeconds()).filter(answer__isnull=False)
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
