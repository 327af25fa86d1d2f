"""Rotating FERNET_KEYS as the README says: prepend a new key, run rotate_encryption_keys, drop the old key."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from amocrm.models import Settings
from notifications.models import TelegramSettings

pytestmark = pytest.mark.django_db

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))
SECRET, TOKEN, BOT_TOKEN = "integration-secret-1", "access-token-2", "123456:bot-token-3"


@pytest.fixture
def stored_under_old_key(settings) -> None:
    settings.FERNET_KEYS = [OLD]
    conn = Settings.load()
    conn.client_secret, conn.access_token = SECRET, TOKEN
    conn.save()
    TelegramSettings.objects.create(bot_token=BOT_TOKEN)


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def test_every_secret_reads_after_the_old_key_is_dropped(settings, stored_under_old_key):
    settings.FERNET_KEYS = [NEW, OLD]
    rotate()

    settings.FERNET_KEYS = [NEW]

    conn = Settings.load()
    assert conn.client_secret == SECRET
    assert conn.access_token == TOKEN
    assert TelegramSettings.load().bot_token == BOT_TOKEN


def test_it_reports_what_it_re_encrypted_per_model_and_field(settings, stored_under_old_key):
    settings.FERNET_KEYS = [NEW, OLD]

    report = rotate()

    assert "amocrm.Settings.client_secret: 1 re-encrypted, 0 already under the first key" in report
    assert "notifications.TelegramSettings.bot_token: 1 re-encrypted, 0 already under the first key" in report


def test_a_second_run_finds_nothing_left_to_do(settings, stored_under_old_key):
    settings.FERNET_KEYS = [NEW, OLD]
    rotate()

    report = rotate()

    assert "amocrm.Settings.access_token: 0 re-encrypted, 1 already under the first key" in report


def test_it_names_a_row_no_key_opens_by_model_and_pk_never_the_value(settings, stored_under_old_key):
    settings.FERNET_KEYS = [NEW]

    with pytest.raises(CommandError) as refused:
        rotate()

    assert "amocrm.Settings pk 1 (client_secret, long_lived_token, access_token, refresh_token)" in str(refused.value)
    assert SECRET not in str(refused.value)


def test_it_still_re_encrypts_the_rows_it_can_open(settings, stored_under_old_key):
    settings.FERNET_KEYS = [LOST]
    TelegramSettings.objects.filter(pk=1).delete()
    TelegramSettings.objects.create(bot_token=BOT_TOKEN)
    settings.FERNET_KEYS = [NEW, OLD]

    with pytest.raises(CommandError, match="no key in FERNET_KEYS opens notifications.TelegramSettings pk 1"):
        rotate()

    settings.FERNET_KEYS = [NEW]
    assert Settings.load().access_token == TOKEN


def test_it_clears_what_no_key_opens_when_asked(settings, stored_under_old_key):
    settings.FERNET_KEYS = [NEW]

    report = rotate("--clear-unreadable")

    assert "cleared amocrm.Settings pk 1 (client_secret, long_lived_token, access_token, refresh_token)" in report
    assert Settings.load().access_token == ""
