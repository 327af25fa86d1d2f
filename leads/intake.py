"""Storing a lead: the one step every form submission goes through, whatever the channel."""

import json
import re
from dataclasses import dataclass

from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone

from acoustic.celery import enqueue_throttled_on_commit
from leads.client_ip import client_ip
from leads.forms import LeadForm
from leads.idempotency import IdempotencyKey, body_digest, save_once
from leads.models import Lead
from leads.tasks import dispatch_leads

_MAX_USER_AGENT = 500
# Each process publishes dispatch_leads at most this often: asking Redis per lead whether one already waits cost a
# round trip per request (bench/README.md). Beat runs it every second too, for the leads stored in between.
DISPATCH_PUBLISH_SECONDS = 0.5
# json.loads joins an escaped pair into one character, so any surrogate left in a string stands alone.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class BadPayload(ValueError):
    """The body could not be read as a lead: not JSON, not an object, or fields of the wrong type."""

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.field_errors = field_errors or {}


@dataclass(frozen=True)
class Visitor:
    ip: str | None
    user_agent: str

    @classmethod
    def of(cls, request: HttpRequest) -> "Visitor":
        return cls(ip=client_ip(request) or None, user_agent=request.META.get("HTTP_USER_AGENT", "")[:_MAX_USER_AGENT])


@dataclass(frozen=True)
class Stored:
    lead: Lead
    created: bool  # False: the key was seen before, and this is the lead stored then


def store_lead(
    form: LeadForm, visitor: Visitor, extra: dict[str, str] | None = None, key: IdempotencyKey | None = None
) -> Stored:
    """Save a validated lead; a worker sends lead_stored for it soon after (leads/dispatch.py)."""
    lead = _new_lead(form, visitor, extra or {})
    if key is None:
        # One INSERT before the answer: the row alone is durable, and its mark gets it dispatched even if the task
        # below is lost or, published by this process a moment ago, not queued again for this lead.
        lead.save(force_insert=True)
        created = True
    else:
        lead.idempotency_key = key.digest
        lead.idempotency_body = body_digest([form.cleaned_data, lead.extra])
        lead, created = save_once(lead)  # still one INSERT, unless the key was seen before
    if created:
        enqueue_throttled_on_commit(dispatch_leads, DISPATCH_PUBLISH_SECONDS)
    return Stored(lead, created)


def _new_lead(form: LeadForm, visitor: Visitor, extra: dict[str, str]) -> Lead:
    data = {name: value for name, value in form.cleaned_data.items() if name in _LEAD_FIELDS}
    consent_at = timezone.now() if form.cleaned_data["consent"] else None
    return Lead(
        **data,
        phone_raw=form.phone_as_typed,
        extra=extra,
        consent_given_at=consent_at,
        consent_version=form.intake.consent_version if consent_at else "",
        client_ip=visitor.ip,
        user_agent=visitor.user_agent,
        dispatch_pending=True,
    )


def parse_api_payload(request: HttpRequest) -> dict[str, str]:
    """A JSON object or a form-encoded body as a flat dict of strings; BadPayload when neither.

    Every key is kept: the lead's own fields and any others the site's form has (leads/extra_fields.py).
    """
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"null")
        except (ValueError, RecursionError) as error:  # RecursionError: "[[[[…" nested thousands deep
            raise BadPayload(f"The body is not valid JSON: {error}") from error
        if not isinstance(payload, dict):
            raise BadPayload("The body must be a JSON object with the lead's fields.")
        return _stringify(payload)
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            return {key: _form_value(request, key) for key in request.POST}
        except _UNREADABLE_FORM as error:
            raise BadPayload(f"The form body cannot be read: {error}") from error
    raise BadPayload("Send the lead as application/json or application/x-www-form-urlencoded.")


# What Django raises reading a broken form body (bad multipart boundary, non-UTF-8 charset, thousands of fields);
# left alone, each becomes Django's HTML 400 page instead of this API's JSON error.
_UNREADABLE_FORM = (MultiPartParserError, BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def _form_value(request: HttpRequest, key: str) -> str:
    if key in LEAD_INPUT_FIELDS:
        return request.POST.get(key, "")
    # A group of checkboxes sends one name several times: an extra field keeps every value ticked.
    return ", ".join(value for value in request.POST.getlist(key) if value)


def _stringify(payload: dict) -> dict[str, str]:
    wrong = sorted(_text(key) for key, value in payload.items() if not _fits(key, value))
    if wrong:
        raise BadPayload("Some fields have the wrong type.", {key: ["Must be a string."] for key in wrong})
    return {_text(key): _text(value) for key, value in payload.items()}


def _fits(key: str, value: object) -> bool:
    if key in LEAD_INPUT_FIELDS and key != "consent":
        return _is_scalar(value)
    # Extra fields and the consent checkbox may be booleans; extra fields may be lists (a group of checkboxes).
    if isinstance(value, list) and key not in LEAD_INPUT_FIELDS:
        return all(_is_scalar(item) or isinstance(item, bool) for item in value)
    return _is_scalar(value) or isinstance(value, bool)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(text for text in map(_text, value) if text)
    # JSON may carry lone surrogates ("\ud83d": an emoji cut in half by a length limit), which no database can
    # store; the visitor's lead still counts, with U+FFFD in their place.
    return _LONE_SURROGATE.sub("\ufffd", str(value))


def _is_scalar(value: object) -> bool:
    # Numbers are accepted (a phone or product id sent as a JSON number); booleans, lists and objects are not.
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


LEAD_INPUT_FIELDS = frozenset(LeadForm.base_fields)
# Stored as they are; the honeypot never is, and consent is stored as when it was given and to which text.
_LEAD_FIELDS = LEAD_INPUT_FIELDS - {"website", "consent"}
