"""Fields a site's form sends beyond the lead's own (branch, preferred time, hearing-test date): kept on the lead.

They are stored as {name: text} in Lead.extra, in the order sent. Anything over the limits is refused with a 400
naming the field, never dropped: a site that adds a field learns at once that it does not fit.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.utils.translation import gettext as _

MAX_FIELDS = 30
MAX_NAME = 64
MAX_VALUE = 2000
# Sent with a form but never the visitor's data: Django's CSRF token (a form posted straight to the API) and the
# idempotency key's body field (leads/idempotency.py).
NOT_EXTRA = frozenset({"csrfmiddlewaretoken", "idempotency_key"})

_NAME_CHECKS = [ProhibitNullCharactersValidator()]
_VALUE_CHECKS = [MaxLengthValidator(MAX_VALUE), ProhibitNullCharactersValidator()]


def extract(data: dict[str, str], known: frozenset[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The submission's extra fields ({name: value}, blank ones left out) and errors for those that do not fit."""
    extra: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in data.items():
        if name in known or name in NOT_EXTRA:
            continue
        value = raw.strip()  # as Django's CharField does: padding never counts against the limit
        if not value:
            continue
        problems = _name_errors(name) or _errors(value, _VALUE_CHECKS)
        if not problems and len(extra) >= MAX_FIELDS:
            problems = [
                _("Too many fields: at most %(limit)d besides the form's own are kept.") % {"limit": MAX_FIELDS}
            ]
        if problems:
            errors[name] = problems
        else:
            extra[name] = value
    return extra, errors


def label(name: str) -> str:
    """How staff read a field's name: 'preferred_time' -> 'Preferred time'."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def _name_errors(name: str) -> list[str]:
    if not name.strip():
        return [_("A field without a name cannot be kept.")]
    if len(name) > MAX_NAME:
        return [_("The field's name is longer than %(limit)d characters.") % {"limit": MAX_NAME}]
    return _errors(name, _NAME_CHECKS)


def _errors(text: str, checks: list) -> list[str]:
    try:
        for check in checks:
            check(text)
    except ValidationError as error:
        return list(error.messages)
    return []
