"""The admin's home page: totals, leads per day by source, outcomes and answer times by source and campaign."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from amocrm.admin import dashboard_figures as figures
from amocrm.models import DeliveryState
from amocrm.tests.dashboard_helpers import answer, deliver, make_lead
from amocrm.tests.deal_sync_helpers import LOST, WON

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def period(now) -> figures.Period:
    today = timezone.localdate(now)
    return figures.Period(today - 29 * DAY, today)


@pytest.fixture
def ads(now):
    """Google: answered in 10, 20 and 60 minutes (one won, one lost); Instagram: one lead, never answered."""
    google = [make_lead(now - DAY, "google", "spring") for _ in range(3)]
    for n, (minutes, status) in enumerate([(10, WON), (20, LOST), (60, 77_000_013)]):
        answer(deliver(google[n], 100 + n), timedelta(minutes=minutes), status)
    deliver(make_lead(now - 2 * DAY, "instagram", "spring"), 200)
    return google


def by_name(rows: list[figures.GroupRow]) -> dict[str, figures.GroupRow]:
    return {row.name: row for row in rows}


def test_it_counts_the_leads_of_each_source(ads, period):
    rows = by_name(figures.breakdowns(period)["source"])

    assert (rows["google"].leads, rows["instagram"].leads) == (3, 1)


def test_it_counts_won_lost_and_in_progress(ads, period):
    google = by_name(figures.breakdowns(period)["source"])["google"]

    assert (google.won, google.lost, google.in_progress) == (1, 1, 1)


def test_it_takes_the_median_answer_time_in_the_database(ads, period):
    google = by_name(figures.breakdowns(period)["source"])["google"]

    assert google.median_answer_seconds == pytest.approx(20 * 60, abs=1)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(ads, period, now):
    answer(deliver(make_lead(now - DAY, "google"), 300), timedelta(minutes=40))

    google = by_name(figures.breakdowns(period)["source"])["google"]

    assert google.median_answer_seconds == pytest.approx(30 * 60, abs=1)


def test_a_source_never_answered_has_no_median(ads, period):
    instagram = by_name(figures.breakdowns(period)["source"])["instagram"]

    assert instagram.median_answer_seconds is None


def test_a_campaign_left_empty_is_a_group_of_its_own(ads, period, now):
    make_lead(now - DAY, "google")

    rows = by_name(figures.breakdowns(period)["utm_campaign"])

    assert rows[""].leads == 1


def test_it_groups_by_campaign(ads, period):
    spring = by_name(figures.breakdowns(period)["utm_campaign"])["spring"]

    assert spring.leads == 4


def test_conversion_is_won_over_all_leads(ads, period):
    google = by_name(figures.breakdowns(period)["source"])["google"]

    assert google.conversion == pytest.approx(100 / 3)


def test_it_counts_leads_per_day_by_source(ads, period, now):
    per_day = figures.leads_per_day(period)

    assert per_day[timezone.localdate(now - DAY)] == {"google": 3}


def test_every_day_of_the_period_is_in_the_chart(period):
    assert len(figures.leads_per_day(period)) == 30


def test_totals_cover_today_seven_and_thirty_days(now):
    make_lead(now)
    make_lead(now - 3 * DAY)
    make_lead(now - 20 * DAY)

    totals = figures.recent_totals(timezone.localdate(now))

    assert [totals[days].leads for days in (1, 7, 30)] == [1, 2, 3]


def test_totals_count_waiting_and_attention(now):
    make_lead(now)  # not dispatched yet: on its way
    deliver(make_lead(now), 0, DeliveryState.RETRYING)
    deliver(make_lead(now), 0, DeliveryState.NEEDS_ATTENTION)

    today = figures.recent_totals(timezone.localdate(now))[1]

    assert (today.waiting, today.needs_attention) == (2, 1)


def test_the_unanswered_list_has_delivered_deals_nobody_moved(ads, period):
    shown, count = figures.unanswered(period)

    assert [lead.source for lead in shown] == ["instagram"]
    assert count == 1


def test_a_source_filter_narrows_every_figure(ads, period):
    rows = figures.breakdowns(period, source="instagram")["source"]

    assert [row.name for row in rows] == ["instagram"]


def test_the_page_shows_each_source(admin_client, ads):
    response = admin_client.get("/admin/")

    assert b'id="dashboard-by-source"' in response.content
    assert "google" in response.content.decode()


def test_the_page_filters_by_source(admin_client, ads):
    response = admin_client.get("/admin/", {"source": "instagram"})

    assert [row.name for row in response.context["by_source"]] == ["instagram"]


def test_a_period_that_ends_before_it_starts_is_refused_in_words(admin_client):
    response = admin_client.get("/admin/", {"date_from": "2026-05-10", "date_to": "2026-05-01"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_a_chosen_period_is_used(admin_client):
    response = admin_client.get("/admin/", {"date_from": "2026-05-01", "date_to": "2026-05-07"})

    assert response.context["period"] == figures.Period(date(2026, 5, 1), date(2026, 5, 7))


def test_the_page_needs_a_staff_login(client):
    response = client.get("/admin/")

    assert response.status_code == 302
