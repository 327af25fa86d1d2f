"""The data migration that releases leads an earlier version parked for the connection's or the account's fault."""

import importlib

import pytest
from django.apps import apps
from django.db.migrations import RunPython

from amocrm.models import Delivery, DeliveryState
from leads.models import Lead

pytestmark = pytest.mark.django_db

migration = importlib.import_module("amocrm.migrations.0007_release_leads_parked_for_the_connection")


def _parked(last_error: str, last_error_path: str = "") -> Delivery:
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="x")
    return Delivery.objects.create(
        lead=lead, state=DeliveryState.NEEDS_ATTENTION, attempts=1, last_error=last_error,
        last_error_path=last_error_path,
    )  # fmt: skip


def _state_after_release(delivery: Delivery) -> str:
    migration.release_parked_for_the_connection(apps, None)
    delivery.refresh_from_db()
    return delivery.state


@pytest.mark.parametrize(
    "last_error",
    [
        "The amoCRM subscription has ended: amoCRM accepts no new deals until it is paid.",
        "amoCRM did not accept the long-lived token (expired or revoked). Paste a new one in the admin.",
        "amoCRM rejected the secret key: copy it again from the integration's Keys tab.",
        "amoCRM revoked access (integration off, or token already used). Reconnect in the admin.",
    ],
)
def test_it_makes_a_lead_parked_for_the_connection_due_again(last_error):
    delivery = _parked(last_error)

    assert _state_after_release(delivery) == DeliveryState.PENDING


def test_it_keeps_a_lead_whose_field_amocrm_named():
    delivery = _parked("amoCRM rejected the data: name: too long", last_error_path="name")

    assert _state_after_release(delivery) == DeliveryState.NEEDS_ATTENTION


@pytest.mark.parametrize(
    "last_error",
    ["amoCRM rejected the data: 400", "amoCRM ma’lumotlarni rad etdi: 400", "amoCRM отклонил данные: 400"],
)
def test_it_keeps_a_lone_lead_amocrm_refused_with_400_in_any_language(last_error):
    delivery = _parked(last_error)

    assert _state_after_release(delivery) == DeliveryState.NEEDS_ATTENTION


def test_it_leaves_delivered_leads_alone():
    delivery = _parked("")
    Delivery.objects.filter(id=delivery.id).update(state=DeliveryState.DELIVERED)

    assert _state_after_release(delivery) == DeliveryState.DELIVERED


def test_undoing_it_changes_nothing():
    (operation,) = migration.Migration.operations

    assert operation.reverse_code is RunPython.noop
