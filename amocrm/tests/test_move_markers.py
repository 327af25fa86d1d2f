"""`manage.py amocrm_move_markers`: deals delivered with the marker in their name get a clean name and the field."""

from io import StringIO

import pytest
import responses
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from amocrm.models import Settings
from amocrm.tests.conftest import BASE_URL
from amocrm.tests.delivery_helpers import MARKER_FIELD, configured_for_delivery, deals, drain, new_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def conn(sandbox_conn) -> Settings:
    """Deals delivered while the account had no marker field (asked a moment ago: not again for an hour)."""
    conn = configured_for_delivery(sandbox_conn)
    conn.marker_field_id, conn.marker_field_checked_at = None, timezone.now()
    conn.save()
    return conn


def _delivered_with_markers_in_names(count: int) -> None:
    for i in range(count):
        new_lead(phone=f"+9989011{i:05d}")
    drain()
    Settings.objects.update(marker_field_id=MARKER_FIELD)  # then the field came


def _move(*args: str) -> str:
    out = StringIO()
    call_command("amocrm_move_markers", *args, stdout=out)
    return out.getvalue().strip()


def _marker_values(sandbox) -> list[str]:
    values = [v for deal in deals(sandbox) for v in deal.custom_fields_values if v["field_id"] == MARKER_FIELD]
    return [v["values"][0]["value"] for v in values]


def test_it_takes_the_marker_out_of_the_names(sandbox, conn):
    _delivered_with_markers_in_names(3)

    _move()

    assert [d.name for d in deals(sandbox)] == ["Yangi so'rov: Dilnoza"] * 3


def test_it_writes_each_marker_into_the_field(sandbox, conn):
    _delivered_with_markers_in_names(3)
    names = [d.name for d in deals(sandbox)]

    _move()

    assert [f" [{marker}]" for marker in _marker_values(sandbox)] == [name.removeprefix("Yangi so'rov: Dilnoza")
                                                                      for name in names]  # fmt: skip


def test_it_changes_50_deals_per_request(sandbox, conn):
    _delivered_with_markers_in_names(51)
    before = len(sandbox.received(path="/api/v4/leads"))

    _move()

    patches = [r for r in sandbox.received(path="/api/v4/leads")[before:] if r.method == "PATCH"]
    assert len(patches) == 2


def test_it_prints_a_summary(sandbox, conn):
    _delivered_with_markers_in_names(2)

    assert _move() == "Deals checked: 2; markers moved out of the name: 2; already clean: 0; no longer in amoCRM: 0."


def test_a_second_run_carries_on_after_the_first_and_changes_nothing(sandbox, conn):
    _delivered_with_markers_in_names(2)
    _move()

    assert _move() == "Deals checked: 0; markers moved out of the name: 0; already clean: 0; no longer in amoCRM: 0."


def test_checking_from_the_start_again_leaves_clean_names_alone(sandbox, conn):
    _delivered_with_markers_in_names(2)
    _move()

    assert _move("--from-start").startswith("Deals checked: 2; markers moved out of the name: 0; already clean: 2;")


def test_a_deal_deleted_in_amocrm_is_counted_and_skipped(sandbox, conn):
    _delivered_with_markers_in_names(2)
    del sandbox.state.leads[deals(sandbox)[0].id]

    assert _move().endswith("already clean: 0; no longer in amoCRM: 1.")


@responses.activate
def test_without_a_marker_field_it_says_why_and_changes_nothing(connected, limiter, english):
    responses.get(f"{BASE_URL}/api/v4/leads/pipelines", json={"_embedded": {"pipelines": []}})
    responses.get(f"{BASE_URL}/api/v4/leads/custom_fields", json={"_embedded": {"custom_fields": []}})
    responses.post(f"{BASE_URL}/api/v4/leads/custom_fields", json={"title": "Forbidden", "status": 403}, status=403)

    with pytest.raises(CommandError, match="Site lead ID"):
        call_command("amocrm_move_markers", stdout=StringIO())
    assert not [call for call in responses.calls if call.request.method == "PATCH"]
