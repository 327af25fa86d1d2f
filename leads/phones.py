"""Phone numbers as visitors type them, normalized to E.164 (default region from LEAD_PHONE_REGION)."""

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    """'+998 71 202 14 41', '90 123 45 67' and '998901234567' all become '+998...'."""
    text = raw.strip()
    if not any(ch.isdigit() for ch in text):
        raise InvalidPhone(_("Enter a phone number."))
    # Visitors often drop the '+' before a full international number (998901234567).
    candidates = [text]
    if not text.startswith("+") and len([c for c in text if c.isdigit()]) > 9:
        candidates.append("+" + text)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, settings.LEAD_PHONE_REGION)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhone(_("Enter a valid phone number, for example +998 90 123 45 67."))


def example_number() -> str:
    """A valid number of LEAD_PHONE_REGION as its people write it, e.g. '66 905 01 23'; blank for an unknown region."""
    number = phonenumbers.example_number(settings.LEAD_PHONE_REGION)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL) if number else ""


def mask_phone(e164: str) -> str:
    """'+998901234567' -> '+998 90 *** ** 67': enough to recognise, not enough to leak."""
    if len(e164) < 8:
        return "***"
    return f"{e164[:4]} {e164[4:6]} *** ** {e164[-2:]}"
