"""A stored secret that no key in FERNET_KEYS opens: one clear line in the admin, the webhook and the worker log."""

import logging

import pytest
from cryptography.fernet import Fernet, InvalidToken

from acoustic.encryption import EncryptedTextField, UnreadableSecret
from amocrm.models import Settings
from amocrm.tasks import keep_tokens_alive

pytestmark = pytest.mark.django_db

LOST, CURRENT = Fernet.generate_key().decode(), Fernet.generate_key().decode()
HOW_TO_FIX = "rotate_encryption_keys"


@pytest.fixture
def key_lost(settings) -> Settings:
    """The amoCRM settings row, saved under a key that FERNET_KEYS no longer has."""
    settings.FERNET_KEYS = [LOST]
    conn = Settings.load()
    conn.client_secret = "integration-secret"
    conn.save()
    settings.FERNET_KEYS = [CURRENT]
    return conn


def test_the_admin_settings_page_says_what_is_wrong_instead_of_failing(admin_client, key_lost):
    response = admin_client.get("/admin/amocrm/settings/1/change/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    assert "no key in FERNET_KEYS opens amocrm.Settings pk 1" in response.content.decode()


def test_the_admin_page_tells_staff_how_to_fix_it(admin_client, key_lost):
    response = admin_client.get("/admin/amocrm/settings/1/change/", HTTP_ACCEPT_LANGUAGE="en")

    assert HOW_TO_FIX in response.content.decode()


def test_the_admin_page_speaks_the_staffs_language(admin_client, key_lost):
    response = admin_client.get("/admin/amocrm/settings/1/change/", HTTP_ACCEPT_LANGUAGE="ru")

    assert "no key in FERNET_KEYS opens" not in response.content.decode()


def test_the_webhook_answers_503_in_json(client, key_lost):
    response = client.post(f"/api/amocrm/webhook/{key_lost.webhook_secret}", {"leads[status][0][id]": "1"})

    assert response.status_code == 503
    assert "no key in FERNET_KEYS opens amocrm.Settings pk 1" in response.json()["error"]


def test_a_task_that_meets_it_logs_one_clear_line(key_lost, caplog):
    keep_tokens_alive.apply()

    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert lines == [
        "amocrm.tasks.keep_tokens_alive skipped: stored secrets cannot be decrypted: no key in FERNET_KEYS opens "
        "amocrm.Settings pk 1 (client_secret, long_lived_token, access_token, refresh_token). Put the old key back "
        "in FERNET_KEYS and run `python manage.py rotate_encryption_keys`, or run it with --clear-unreadable and "
        "enter those secrets again."
    ]


def test_the_project_field_names_itself_when_no_key_opens_it(settings):
    field = EncryptedTextField()
    field.set_attributes_from_name("access_token")
    field.model = Settings
    token = Fernet(Fernet.generate_key()).encrypt(b"value under an unknown key")

    with pytest.raises(UnreadableSecret, match=r"no key in FERNET_KEYS opens amocrm\.Settings\.access_token"):
        field.from_db_value(token, None, None)


def test_the_project_exception_is_still_an_invalid_token():
    assert issubclass(UnreadableSecret, InvalidToken)


def test_the_worker_names_unreadable_rows_when_it_starts(key_lost, caplog):
    from acoustic.unreadable_secrets import report_at_worker_start

    report_at_worker_start()

    assert caplog.records[-1].levelno == logging.ERROR
    assert "no key in FERNET_KEYS opens amocrm.Settings pk 1" in caplog.records[-1].getMessage()
