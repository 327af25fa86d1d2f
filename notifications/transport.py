"""The one way a request leaves for Telegram's Bot API: one session, a timeout, one error type.

https://core.telegram.org/bots/api. The host is TELEGRAM_API_URL (a stand-in in tests and development).
The bot token is part of every URL, so no URL and no requests exception text ever reaches a log or the admin.
"""

import logging
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from acoustic.http_session import json_object, process_session

logger = logging.getLogger(__name__)

TIMEOUT = (5.0, 10.0)  # connect, read: a slow Telegram must not hold a worker for long


class TelegramError(Exception):
    """What went wrong talking to Telegram, whether retrying can help, and when; `message` is for staff."""

    def __init__(
        self, message: str, *, permanent: bool, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status


def send_message(token: str, chat_id: str, text: str) -> int:
    """sendMessage in HTML parse mode, without link previews; the new message's id."""
    payload = {"chat_id": chat_id, "text": text, "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
    result = _call(token, "sendMessage", payload)
    try:
        return int(result["message_id"])
    except (KeyError, TypeError, ValueError) as error:
        raise TelegramError(_("Telegram gave an answer this site cannot read."), permanent=False) from error


def edit_message_text(token: str, chat_id: str, message_id: int, text: str) -> None:
    """editMessageText in HTML parse mode; an edit that changes nothing counts as done."""
    payload = {
        "chat_id": chat_id, "message_id": message_id, "text": text, "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }  # fmt: skip
    try:
        _call(token, "editMessageText", payload)
    except TelegramError as error:
        # Telegram answers 400 "message is not modified" when the text is already this one, e.g. when an
        # earlier attempt was carried out but its answer was lost: the edit is done.
        if not (error.status == 400 and "message is not modified" in error.message):
            raise


def _call(token: str, method: str, payload: dict[str, Any]) -> Any:
    if not token:
        raise TelegramError(_("No bot token is set in the Telegram settings."), permanent=True)
    url = f"{settings.TELEGRAM_API_URL}/bot{token}/{method}"
    try:
        response = process_session().post(url, json=payload, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise _network_error(error) from None  # `from None`: the exception's text carries the URL, so the token
    return _result(response)


def _result(response: requests.Response) -> Any:
    """The `result` of an ok answer; a TelegramError for anything else."""
    body = json_object(response)
    if response.status_code == 200 and body.get("ok") is True:
        return body.get("result")
    raise _error_from(response.status_code, body)


def _error_from(status: int, body: dict[str, Any]) -> TelegramError:
    description = str(body.get("description") or f"HTTP {status}")
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    if status == 429:
        message = _("Telegram says too many requests: %(description)s") % {"description": description}
        return TelegramError(message, permanent=False, retry_after=_seconds(parameters.get("retry_after")), status=429)
    if parameters.get("migrate_to_chat_id"):
        # The group became a supergroup and has a new id; messages to the old one fail for good.
        message = _("The group was upgraded and its chat id is now %(chat_id)s: put it in the Telegram settings.")
        return TelegramError(message % {"chat_id": parameters["migrate_to_chat_id"]}, permanent=True, status=status)
    # 400 (chat not found, bad request), 401 (token not accepted), 403 (bot blocked or removed), 404 (no such bot):
    # the same request fails again until someone changes the settings. A server error may pass.
    hint = _HINTS.get(status)
    message = f"{description}. {hint}" if hint else description
    return TelegramError(message, permanent=400 <= status < 500, status=status)


_HINTS = {
    400: gettext_lazy("Check the chat id, and that the bot is a member of the chat."),
    401: gettext_lazy("Check the bot token in the Telegram settings."),
    403: gettext_lazy("Add the bot to the chat again, or unblock it."),
    404: gettext_lazy("Check the bot token in the Telegram settings."),
}


def _seconds(value: Any) -> float | None:
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return None


def _network_error(error: requests.RequestException) -> TelegramError:
    # After a read timeout the message may have arrived; sending again risks a duplicate, which beats a lost lead.
    if isinstance(error, requests.Timeout):
        return TelegramError(_("Telegram did not answer within %(seconds)d s.") % {"seconds": TIMEOUT[1]},
                             permanent=False)  # fmt: skip
    return TelegramError(_("Telegram is unreachable (%(error)s).") % {"error": type(error).__name__}, permanent=False)
