"""amoCRM settings no key in FERNET_KEYS opens: the workers wait with one clear line, and no lead is lost."""

import logging

import pytest
from cryptography.fernet import Fernet

from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.tasks import push_lead, sweep_deliveries
from leads.models import Lead

pytestmark = pytest.mark.django_db

LOST, CURRENT = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def key_lost(settings) -> None:
    settings.FERNET_KEYS = [LOST]
    conn = Settings.load()
    conn.client_secret = "integration-secret"
    conn.save()
    settings.FERNET_KEYS = [CURRENT]


@pytest.fixture
def due() -> Delivery:
    return Delivery.objects.create(lead=Lead.objects.create(name="A", phone="+998901234567", phone_raw="x"))


def test_the_sweeper_finishes_instead_of_failing(key_lost, due):
    result = sweep_deliveries.apply()

    assert result.successful()


def test_the_sweeper_says_why_in_one_line(key_lost, due, caplog):
    with caplog.at_level(logging.ERROR):
        sweep_deliveries.apply()

    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith("amocrm.tasks.sweep_deliveries skipped: stored secrets cannot be decrypted")


def test_a_push_leaves_the_lead_due_for_when_the_key_is_back(key_lost, due):
    push_lead.apply(args=(due.id,))

    due.refresh_from_db()
    assert (due.state, due.attempts) == (DeliveryState.PENDING, 0)


def test_a_webhook_with_a_wrong_secret_still_gets_404(client, key_lost):
    response = client.post("/api/amocrm/webhook/not-the-secret", {"leads[status][0][id]": "1"})

    assert response.status_code == 404
