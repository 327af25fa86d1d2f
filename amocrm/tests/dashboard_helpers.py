"""Leads with deliveries and deal stages, made in code for the dashboard, export and unanswered-lead tests."""

from datetime import datetime, timedelta

from amocrm.models import DealStage, Delivery, DeliveryState
from amocrm.tests.deal_sync_helpers import SALES, SALES_NEGOTIATION
from leads.models import Lead


def make_lead(created_at: datetime, source: str = "contact_form", campaign: str = "", name: str = "Dilnoza") -> Lead:
    lead = Lead.objects.create(name=name, phone="+998901234567", phone_raw="90 123 45 67", source=source,
                               utm_campaign=campaign)  # fmt: skip
    Lead.objects.filter(pk=lead.pk).update(created_at=created_at)  # auto_now_add ignores a given value
    lead.refresh_from_db()
    return lead


def deliver(lead: Lead, deal_id: int, state: str = DeliveryState.DELIVERED) -> Delivery:
    return Delivery.objects.create(lead=lead, state=state, amocrm_lead_id=deal_id if state == "delivered" else None)


def answer(delivery: Delivery, after: timedelta, status_id: int = SALES_NEGOTIATION) -> DealStage:
    moved = delivery.lead.created_at + after
    return DealStage.objects.create(delivery=delivery, pipeline_id=SALES, status_id=status_id, status_name="Talks",
                                    changed_at=moved, first_changed_at=moved, reported_at=moved)  # fmt: skip
