"""The lead list shows each deal's stage in amoCRM, filters by it, and shows how fast the lead was answered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from amocrm.models import DealStage, DealStageChange
from amocrm.tests.deal_sync_helpers import LOST, SALES, SALES_NEGOTIATION, WON, delivered_lead
from leads.models import Lead

pytestmark = pytest.mark.django_db
LEADS_URL = "/admin/leads/lead/"


def staged(name: str, deal_id: int, status_id: int | None, answered_after: timedelta | None = None) -> Lead:
    delivery = delivered_lead(deal_id, name=name)
    first = delivery.lead.created_at + answered_after if answered_after else None
    if status_id is not None:
        DealStage.objects.create(delivery=delivery, pipeline_id=SALES, status_id=status_id,
                                 status_name="Negotiation", first_changed_at=first)  # fmt: skip
    return delivery.lead


@pytest.fixture
def leads() -> dict[str, Lead]:
    not_sent = Lead.objects.create(name="Not sent", phone="+998901112233", phone_raw="901112233")
    return {
        "won": staged("Won deal", 1, WON, timedelta(hours=2, minutes=5)),
        "lost": staged("Lost deal", 2, LOST),
        "talking": staged("Talking deal", 3, SALES_NEGOTIATION),
        "unknown": staged("Fresh deal", 4, None),
        "not_sent": not_sent,
    }


def names(response) -> set[str]:
    return {lead.name for lead in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("won", {"Won deal"}),
        ("lost", {"Lost deal"}),
        ("in_progress", {"Talking deal", "Fresh deal"}),
        ("not_in_amocrm", {"Not sent"}),
    ],
)
def test_it_filters_leads_by_their_deal(admin_client, leads, value, expected):
    response = admin_client.get(LEADS_URL, {"deal": value})

    assert names(response) == expected


def test_a_deleted_deal_is_neither_won_nor_in_progress(admin_client, leads):
    DealStage.objects.filter(delivery__lead=leads["won"]).update(deleted_at=timezone.now())

    won = admin_client.get(LEADS_URL, {"deal": "won"})
    in_progress = admin_client.get(LEADS_URL, {"deal": "in_progress"})

    assert names(won) == set() and "Won deal" not in names(in_progress)


def test_it_shows_the_stage_and_the_time_to_answer(admin_client, leads):
    page = admin_client.get(LEADS_URL).content.decode()

    assert "In progress: Negotiation" in page and "Won" in page and "Lost" in page
    assert "2\xa0hours, 5\xa0minutes" in page


def test_it_sorts_by_the_time_to_answer(admin_client, leads):
    staged("Quick deal", 5, WON, timedelta(minutes=3))
    column = list(admin_client.get(LEADS_URL).context["cl"].list_display).index("answered_in")

    response = admin_client.get(LEADS_URL, {"o": str(column)})

    ordered = [lead.name for lead in response.context["cl"].result_list if lead.name in ("Quick deal", "Won deal")]
    assert ordered == ["Quick deal", "Won deal"]


def test_the_lead_page_lists_the_stage_history(admin_client, leads):
    delivery = leads["won"].amocrm_delivery
    DealStageChange.objects.create(delivery=delivery, pipeline_id=SALES, status_id=WON, pipeline_name="Sales",
                                   status_name="Won it", changed_at=timezone.now(), source="webhook")  # fmt: skip

    page = admin_client.get(f"{LEADS_URL}{leads['won'].id}/change/").content.decode()

    assert "Sales / Won it (webhook)" in page
