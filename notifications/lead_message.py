"""The text staff read in Telegram for a new lead, in Telegram's HTML parse mode.

Every value a visitor typed is escaped (only <, > and & need it: https://core.telegram.org/bots/api#html-style),
so "<b>" or "&" in a message arrives as written. Texts are in the site's language, not the visitor's.
"""

import html

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leads.extra_fields import label
from leads.models import Lead

# Telegram takes at most 4096 characters per message: long free text is cut, the rest always fits.
_MAX_TELEGRAM = 4096
_MAX_MESSAGE = 2000
_MAX_URL = 400
_MAX_EXTRA = 300
_MORE_LINE = 60  # room kept for the line saying how many other fields did not fit
_UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def lead_text(lead: Lead, deal_url: str = "") -> str:
    """Name, phone (E.164, which Telegram makes tappable), source, product, message, page, UTM, other fields; link."""
    with translation.override(settings.LANGUAGE_CODE):
        # Labels outside the f-strings, where makemessages finds them.
        new_lead, open_deal = _("New lead"), _("open the deal")
        lines = [f"🔔 <b>{new_lead} #{lead.pk}</b>"]
        lines += [f"<b>{name}:</b> {escape(value)}" for name, value in _fields(lead) if value]
        link = [f'<b>amoCRM:</b> <a href="{html.escape(deal_url)}">{open_deal}</a>'] if deal_url else []
        lines += _extra_lines(lead, _MAX_TELEGRAM - len("\n".join(lines + link)) - 1)
    return "\n".join(lines + link)


def escape(value: str) -> str:
    return html.escape(value, quote=False)


def _fields(lead: Lead) -> list[tuple[str, str]]:
    return [
        (_("Name"), lead.name),
        (_("Phone"), lead.phone),
        (_("Email"), lead.email),
        (_("Source"), lead.source),
        (_("Product"), lead.product_id),
        (_("Message"), _clip(lead.message, _MAX_MESSAGE)),
        (_("Page"), _clip(lead.page_url, _MAX_URL)),
        (_("Referrer"), _clip(lead.referrer, _MAX_URL)),
        ("UTM", ", ".join(f"{name[4:]}={getattr(lead, name)}" for name in _UTM_FIELDS if getattr(lead, name))),
    ]


def _extra_lines(lead: Lead, room: int) -> list[str]:
    """The form's other fields ("Branch: Chilonzor"), as many as fit in the room left; then how many did not."""
    lines = [f"<b>{escape(label(name))}:</b> {escape(_clip(value, _MAX_EXTRA))}" for name, value in lead.extra.items()]
    shown, used = [], _MORE_LINE
    for line in lines:
        used += len(line) + 1
        if used > room:
            left = len(lines) - len(shown)
            more = ngettext(
                "… and %(count)d more field, in the admin", "… and %(count)d more fields, in the admin", left
            )
            return [*shown, more % {"count": left}]
        shown.append(line)
    return shown


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
