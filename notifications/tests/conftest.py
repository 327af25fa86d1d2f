"""Fixtures for the Telegram tests: a configured bot, leads, Telegram's answers; the amoCRM fixtures re-exported."""

import pytest

from amocrm.tests.conftest import connected, english, limiter, sandbox, sandbox_conn  # noqa: F401 - fixtures
from leads.dispatch import dispatch
from leads.models import Lead
from notifications.models import TelegramSettings

API = "https://telegram.test"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
LEADS_CHAT, ALERTS_CHAT = "-1001111111111", "-1002222222222"


def api_url(method: str) -> str:
    return f"{API}/bot{TOKEN}/{method}"


def ok(message_id: int = 77) -> dict:
    """Telegram's answer to sendMessage / editMessageText."""
    return {"ok": True, "result": {"message_id": message_id, "chat": {"id": int(LEADS_CHAT)}, "text": "…"}}


def refusal(code: int, description: str, **parameters) -> dict:
    return {
        "ok": False,
        "error_code": code,
        "description": description,
        **({"parameters": parameters} if parameters else {}),
    }


@pytest.fixture(autouse=True)
def telegram_api(settings):
    """Telegram is the `responses` stand-in at API; texts are in English (the site's language is Uzbek)."""
    settings.TELEGRAM_API_URL = API
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def telegram(db) -> TelegramSettings:
    conf = TelegramSettings.load()
    conf.bot_token, conf.leads_chat_id, conf.alerts_chat_id = TOKEN, LEADS_CHAT, ALERTS_CHAT
    conf.save()
    return conf


def store_lead(**fields) -> Lead:
    """A lead stored the way leads/intake.py stores one, then dispatched as its worker does (lead_stored)."""
    fields = {"name": "Dilnoza", "phone": "+998901234567", "phone_raw": "90 123 45 67", **fields}
    lead = Lead.objects.create(**fields, dispatch_pending=True)
    dispatch(lead.id)
    return lead
