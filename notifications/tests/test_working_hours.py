"""Working hours: Monday to Saturday, 9 to 19 in Tashkent, unless the shop's settings say otherwise."""

from datetime import datetime
from zoneinfo import ZoneInfo

from notifications.working_hours import DEFAULT

TASHKENT = ZoneInfo("Asia/Tashkent")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the week of Monday 2026-12-07, Tashkent time."""
    return datetime(2026, 12, day, hour, minute, tzinfo=TASHKENT)


def test_it_counts_time_inside_the_working_day():
    assert DEFAULT.seconds_between(at(7, 10), at(7, 10, 20)) == 20 * 60


def test_it_counts_nothing_before_opening():
    assert DEFAULT.seconds_between(at(7, 6), at(7, 9)) == 0


def test_an_evening_lead_waits_until_the_morning():
    assert DEFAULT.seconds_between(at(7, 18, 50), at(8, 9, 10)) == 20 * 60


def test_sunday_is_not_a_working_day():
    assert DEFAULT.seconds_between(at(12, 18, 55), at(14, 9, 10)) == 15 * 60


def test_it_reads_moments_in_any_time_zone():
    utc = datetime(2026, 12, 7, 5, 0, tzinfo=ZoneInfo("UTC"))  # 10:00 in Tashkent

    assert DEFAULT.seconds_between(utc, at(7, 10, 15)) == 15 * 60


def test_an_end_before_the_start_counts_nothing():
    assert DEFAULT.seconds_between(at(7, 12), at(7, 11)) == 0
