"""Log records as one JSON object per line, tagged with the request id, with tokens, secrets and phones masked.

Wired in settings.LOGGING (and gunicorn.conf.py): RequestIdFilter and RedactFilter sit on every handler, so
whatever logger a record comes from, it is tagged and masked before any formatter sees it.
"""

import json
import logging
import re
from datetime import UTC, datetime

from acoustic.request_id import current_request_id

REDACTED = "[REDACTED]"
# Values that are secrets whatever the context: OAuth tokens, the integration secret, the authorization code, the
# disconnect hook's signature (an HMAC of the integration secret).
_SECRET_KEYS = r"access_token|refresh_token|client_secret|code|signature"
_SECRET_KEY = re.compile(rf"(?i){_SECRET_KEYS}")

_BEARER = re.compile(r"(?i)\b(Bearer)\s+[\w\-.~+/]+=*")
# JSON bodies and Python reprs: "access_token": "…", 'code': '…' (escaped quotes inside the value included).
_QUOTED_VALUE = re.compile(rf"""(?i)(["'](?:{_SECRET_KEYS})["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2""")
# Query strings and form bodies: ?code=…&, access_token=… (not error_code=… or postcode=…).
_PARAM_VALUE = re.compile(rf"(?i)(?<![\w-])((?:{_SECRET_KEYS})=)[^&\s\"'#]+")
# The same inside a URL-encoded URL, e.g. the login page's ?next=/api/amocrm/callback%3Fcode%3D…%26state%3D…: after
# "?", "&" or their encodings, up to the next encoded "&".
_ENCODED_PARAM_VALUE = re.compile(rf"(?i)((?:(?<![\w-])|(?<=%3F)|(?<=%26))(?:{_SECRET_KEYS})%3D)(?:(?!%26)[^&\s\"'#])+")
# amoCRM's deal webhooks come to /api/amocrm/webhook/<secret>: the path itself is the secret.
_WEBHOOK_PATH = re.compile(r"(/api/amocrm/webhook/)[^/?#\s\"']+")
# amoCRM's access tokens are JWTs: mask one wherever it turns up on its own.
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
# E.164-like numbers: "+998901234567", "+998 90 123 45 67", "%2B998…" (URL-encoded), or 11–15 bare digits
# ("998901234567" in a query); shorter digit runs (ids, years, 10-digit timestamps) are left alone.
# The last 2 digits stay, enough to tell two numbers apart in a log.
_PHONE = re.compile(
    r"(?:\+|%2[Bb])(?:\d{8,15}|\d{1,4}(?:[ \-]\d{1,4}){2,6})(?!\d)"  # with a plus: compact or in groups
    r"|(?<![\w.])\d{11,15}(?!\w)"  # without: 11–15 digits on their own
)
# A contact search's `query=` is a phone (the national number, "901234567") or an email: mask digit runs of 7 or
# more there too, and the part of an email before the @.
_SEARCH_QUERY = re.compile(r"(?i)(?<![\w-])(query=)([^&\s\"'#]+)")
_DIGIT_RUN = re.compile(r"\d{7,}")
_EMAIL_NAME = re.compile(r"^[^@]+(?=(?:@|%40))")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged (and masked) too.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _mask_phone(match: re.Match) -> str:
    text = match.group()
    prefix = text[:3] if text[:3].upper() == "%2B" else ""
    digits = sum(ch.isdigit() for ch in text[len(prefix) :])
    seen, masked = 0, [prefix]
    for ch in text[len(prefix) :]:
        if ch.isdigit():
            seen += 1
            ch = ch if seen > digits - 2 else "*"
        masked.append(ch)
    return "".join(masked)


def _mask_search_query(match: re.Match) -> str:
    value = _EMAIL_NAME.sub(lambda name: "*" * len(name.group()), match.group(2))
    return match.group(1) + _DIGIT_RUN.sub(_mask_phone, value)


def redact(text: str) -> str:
    """`text` with bearer tokens, secret parameters, the webhook's secret path, JWTs and all but the last 2 digits of
    phones masked."""
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _QUOTED_VALUE.sub(rf"\1\2{REDACTED}\2", text)
    text = _PARAM_VALUE.sub(rf"\1{REDACTED}", text)
    text = _ENCODED_PARAM_VALUE.sub(rf"\1{REDACTED}", text)
    text = _WEBHOOK_PATH.sub(rf"\1{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _PHONE.sub(_mask_phone, text)
    return _SEARCH_QUERY.sub(_mask_search_query, text)


class RedactFilter(logging.Filter):
    """Masks the message, the traceback and string extras in place, so every formatter gets the masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not raise out of a log call
            message = f"{record.msg} (arguments did not fit the format)"
        record.msg, record.args = redact(str(message)), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            # request_id is checked where it enters (acoustic.request_id); masking digits in it would break the trail.
            if name not in _STANDARD_ATTRS and name != "request_id":
                setattr(record, name, _redact_value(value))
        return True


def _redact_value(value: object) -> object:
    # Extras may be nested (Celery logs a dict of task details) or objects (Django logs the request, whose
    # repr has the query string): numbers stay, everything else becomes masked text.
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.fullmatch(str(k)) else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return redact(str(value))


class EverySecondTaskFilter(logging.Filter):
    """Drops a Celery worker's INFO lines (received, succeeded) for the task beat runs every second, two lines a second
    that say nothing; its warnings and errors still show, and every other task's lines."""

    TASKS = frozenset({"leads.tasks.dispatch_leads"})

    def filter(self, record: logging.LogRecord) -> bool:
        details = record.args if isinstance(record.args, dict) else {}  # Celery logs a task's details as a dict
        return record.levelno > logging.INFO or details.get("name") not in self.TASKS


class RequestIdFilter(logging.Filter):
    """Tags a record with the id of the request being handled (None outside requests, e.g. in Celery tasks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and k not in entry})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
