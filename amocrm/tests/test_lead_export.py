"""The lead list's export: what the list shows, as CSV and XLSX, streamed from the database in chunks."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from openpyxl import load_workbook

from amocrm.admin import export
from amocrm.models import DeliveryState
from amocrm.tests.dashboard_helpers import answer, deliver, make_lead
from amocrm.tests.deal_sync_helpers import WON

pytestmark = pytest.mark.django_db
CSV_URL = "/admin/leads/lead/export/csv/"
XLSX_URL = "/admin/leads/lead/export/xlsx/"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def leads():
    now = timezone.now()
    won = make_lead(now - timedelta(hours=2), "google", name="Won lead")
    answer(deliver(won, 555), timedelta(minutes=30), WON)
    deliver(make_lead(now - timedelta(hours=1), "instagram", name="Stuck lead"), 0, DeliveryState.NEEDS_ATTENTION)
    return won


def read_csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_streams(admin_client, leads):
    response = admin_client.get(CSV_URL)

    assert isinstance(response, StreamingHttpResponse)


def test_the_csv_has_a_row_per_lead(admin_client, leads):
    rows = read_csv(admin_client.get(CSV_URL))

    assert [row["Name"] for row in rows] == ["Stuck lead", "Won lead"]


def test_the_csv_carries_the_deal_its_stage_outcome_and_answer_time(admin_client, leads):
    won = read_csv(admin_client.get(CSV_URL))[1]

    assert won["Deal link"].endswith("/leads/detail/555")
    assert won["Stage"] == won["Outcome"] == "Won"
    assert won["Answered in (minutes)"] == "30.0"


def test_the_csv_carries_the_delivery_state(admin_client, leads):
    stuck = read_csv(admin_client.get(CSV_URL))[0]

    assert stuck["amoCRM"] == "Needs attention"


def test_the_export_keeps_the_lists_filters(admin_client, leads):
    rows = read_csv(admin_client.get(CSV_URL, {"source": "google"}))

    assert [row["Name"] for row in rows] == ["Won lead"]


def test_the_export_keeps_the_lists_search(admin_client, leads):
    rows = read_csv(admin_client.get(CSV_URL, {"q": "Stuck"}))

    assert [row["Name"] for row in rows] == ["Stuck lead"]


def test_the_rows_are_read_in_chunks_not_all_at_once(admin_client, leads):
    with mock.patch.object(QuerySet, "iterator", autospec=True, side_effect=QuerySet.iterator) as iterator:
        read_csv(admin_client.get(CSV_URL))

    assert iterator.call_args.kwargs == {"chunk_size": export.CHUNK}


def test_the_xlsx_has_the_same_rows(admin_client, leads):
    response = admin_client.get(XLSX_URL)

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert [values[0][2], values[1][2], values[2][2]] == ["Name", "Stuck lead", "Won lead"]


def test_the_xlsx_is_an_attachment(admin_client, leads):
    response = admin_client.get(XLSX_URL)

    assert response["Content-Disposition"].startswith('attachment; filename="leads-')


def test_the_list_links_to_both_exports_with_its_filters(admin_client, leads):
    response = admin_client.get("/admin/leads/lead/", {"source": "google"})

    assert f'href="{CSV_URL}?source=google"' in response.content.decode()


def test_the_export_needs_a_staff_login(client, leads):
    response = client.get(CSV_URL)

    assert response.status_code == 302
