"""Working hours: when a follow-up task falls due, counted from the lead in the shop's working time."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from amocrm.models.manager_work import WorkingHours

TASHKENT = ZoneInfo("Asia/Tashkent")
SHOP = WorkingHours()  # Monday to Saturday, 9:00 to 19:00


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the week of Monday 2026-12-07, Tashkent time."""
    return datetime(2026, 12, day, hour, minute, tzinfo=TASHKENT)


def test_it_is_due_minutes_later_inside_the_working_day():
    assert SHOP.add(at(7, 10), 15 * 60) == at(7, 10, 15)


def test_a_night_lead_is_due_after_opening():
    assert SHOP.add(at(7, 22, 40), 15 * 60) == at(8, 9, 15)


def test_an_early_lead_is_due_after_opening_the_same_day():
    assert SHOP.add(at(8, 6, 30), 15 * 60) == at(8, 9, 15)


def test_the_minutes_left_at_closing_carry_over_to_the_next_morning():
    assert SHOP.add(at(7, 18, 50), 15 * 60) == at(8, 9, 5)


def test_a_saturday_evening_lead_is_due_on_monday():
    assert SHOP.add(at(12, 18, 55), 15 * 60) == at(14, 9, 10)


def test_a_sunday_lead_is_due_on_monday():
    assert SHOP.add(at(13, 12), 15 * 60) == at(14, 9, 15)


def test_a_shop_with_no_working_days_counts_plain_time():
    assert WorkingHours(days=frozenset()).add(at(13, 12), 15 * 60) == at(13, 12, 15)


def test_a_shop_closing_before_it_opens_counts_plain_time():
    assert WorkingHours(opens=time(19), closes=time(9)).add(at(7, 22), 600) == at(7, 22, 10)
