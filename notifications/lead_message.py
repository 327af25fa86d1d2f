"""The text staff read in Telegram for a new lead, in Telegram's HTML parse mode.

Every value a visitor typed is escaped (only <, > and & need it: https://core.telegram.org/bots/api#html-style),
so "<b>" or "&" in a message arrives as written. Texts are in the site's language, not the visitor's.
"""

import html
import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leads.extra_fields import label
from leads.models import Lead
from leads.sources import form_name

# Long free text is cut first, so that the fields after it still show in most messages.
_MAX_MESSAGE = 2000
_MAX_URL = 400
# Telegram takes at most 4096 characters per message (https://core.telegram.org/bots/api#sendmessage), counted
# after its HTML is parsed, in UTF-16 code units (an emoji counts two). The text is measured before parsing (tags
# and "&amp;" in full), which is never less: it fits whichever way it is counted.
TELEGRAM_MAX_LENGTH = 4096
# A tag (closing or not, and its name), an escaped character, or one character.
_TOKEN = re.compile(r"<(/?)([a-zA-Z]+)[^>]*>|&#?\w+;|.", re.DOTALL)
ELLIPSIS = "…"
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
        link = f'<b>amoCRM:</b> <a href="{html.escape(deal_url)}">{open_deal}</a>' if deal_url else ""
        lines += _extra_lines(lead, TELEGRAM_MAX_LENGTH - _length("\n".join([*lines, link])) - 1)
    return fit_to_telegram("\n".join(lines), link)


def fit_to_telegram(body: str, last_line: str = "") -> str:
    """`body` cut with "…" where needed so that it and `last_line` (the deal link, always kept whole) make one
    Telegram message. The cut never splits a tag or an escaped character, and closes the tags it leaves open.
    """
    room = TELEGRAM_MAX_LENGTH - (_length(last_line) + 1 if last_line else 0)
    if _length(body) > room:
        body = _cut(body, room)
    return f"{body}\n{last_line}" if last_line else body


def _cut(body: str, room: int) -> str:
    """The longest start of `body` that fits `room` together with "…" and the closing tags it then needs."""
    kept, open_tags, used = [], [], 0
    for token in _TOKEN.finditer(body):
        tags = _open_after(open_tags, token)
        size = _length(token[0])
        if used + size + _length(ELLIPSIS + _closing(tags)) > room:
            break
        kept.append(token[0])
        used, open_tags = used + size, tags
    return "".join(kept).rstrip() + ELLIPSIS + _closing(open_tags)


def _open_after(open_tags: list[str], token: re.Match) -> list[str]:
    closing, name = token[1], (token[2] or "").lower()
    if name and not closing:
        return [*open_tags, name]
    if name and open_tags and open_tags[-1] == name:
        return open_tags[:-1]
    return open_tags


def _closing(open_tags: list[str]) -> str:
    return "".join(f"</{tag}>" for tag in reversed(open_tags))


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(value: str) -> str:
    return html.escape(value, quote=False)


def _fields(lead: Lead) -> list[tuple[str, str]]:
    return [
        (_("Name"), lead.name),
        (_("Phone"), lead.phone),
        (_("Email"), lead.email),
        (_("Form"), form_name(lead.source)),  # staff read the form's name, not its slug
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
