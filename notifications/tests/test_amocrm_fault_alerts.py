"""A fault of the amoCRM connection or account, met while sending leads, raises the alert staff act on."""

import pytest
import responses
from django.utils import timezone

from amocrm.delivery import batch
from amocrm.tests.delivery_helpers import configured_for_delivery, new_lead
from amocrm.tests.test_delivery_faults import PAYMENT_REQUIRED, control
from notifications import alerts
from notifications.models import Alert, AlertKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def conn(sandbox_conn):
    return configured_for_delivery(sandbox_conn)


def _active_alerts() -> set[str]:
    alerts.evaluate_alerts()
    return set(Alert.objects.filter(active=True).values_list("kind", flat=True))


def test_a_402_while_sending_raises_the_sending_paused_alert(sandbox, conn):
    new_lead()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru(sandbox.url)
        mocked.post(f"{sandbox.url}/api/v4/leads/complex", status=402, json=PAYMENT_REQUIRED)

        batch.deliver_due()

    assert AlertKind.SENDING_PAUSED in _active_alerts()


def test_a_long_lived_token_amocrm_no_longer_accepts_raises_the_reconnect_alert(sandbox, conn):
    conn.long_lived_token = sandbox.issue_tokens()["access_token"]
    conn.save()
    new_lead()
    control(sandbox, revoke_tokens=True)

    batch.deliver_due()

    assert AlertKind.RECONNECT in _active_alerts()


def test_a_token_endpoint_refusing_the_secret_raises_the_reconnect_alert(sandbox, conn):
    conn.client_secret, conn.access_token_expires_at = "not-the-secret", timezone.now()  # due for a refresh
    conn.save()
    new_lead()

    batch.deliver_due()

    assert AlertKind.RECONNECT in _active_alerts()
