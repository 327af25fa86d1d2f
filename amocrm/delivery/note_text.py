"""The deal's note as a person would write it: what they asked, which form, where they came from, what they agreed.

Labels are in the site's default language (staff read amoCRM in it); values are as the visitor's browser sent them.
"""

from django.conf import settings as django_settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from leads import extra_fields, sources
from leads.models import Lead

_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def note_text(lead: Lead) -> str:
    with translation.override(django_settings.LANGUAGE_CODE):
        lines = [
            (_("Message"), lead.message),
            (_("Form"), sources.form_name(lead.source)),
            (_("Product"), lead.product_id),
            (_("Page"), lead.page_url),
            *_touch(lead, ""),
            *_first_touch(lead),
            *_click_ids(lead),
            *((extra_fields.label(name), value) for name, value in lead.extra.items()),
            (_("Consent given"), _consent(lead)),
        ]
        return "\n".join(f"{label}: {value}" for label, value in lines if value)


def has_note(lead: Lead) -> bool:
    """What the deal cannot show otherwise: the message, the form's other fields, the consent."""
    return bool(lead.message or lead.extra or lead.consent_given_at)


def _touch(lead: Lead, prefix: str) -> list[tuple[str, str]]:
    labels = (_("UTM source"), _("UTM medium"), _("UTM campaign"), _("UTM content"), _("UTM term"))
    return [
        (_("Landing page"), getattr(lead, f"{prefix}landing_page")),
        (_("Came from"), getattr(lead, f"{prefix}referrer")),
        *((label, getattr(lead, f"{prefix}{name}")) for label, name in zip(labels, _UTM, strict=True)),
    ]


def _first_touch(lead: Lead) -> list[tuple[str, str]]:
    """The visit that first brought them, when it differs from the latest."""
    first, last = _touch(lead, "first_"), _touch(lead, "")
    if first == last or not any(value for _label, value in first):
        return []
    return [(_("First visit: %(what)s") % {"what": label}, value) for label, value in first]


def _click_ids(lead: Lead) -> list[tuple[str, str]]:
    return [
        (_("Google Ads click (gclid)"), lead.gclid),
        (_("Yandex Direct click (yclid)"), lead.yclid),
        (_("Facebook click (fbclid)"), lead.fbclid),
        (_("Yandex Metrica visitor (_ym_uid)"), lead.ym_uid),
        (_("Google Analytics client id"), lead.ga_client_id),
    ]


def _consent(lead: Lead) -> str:
    if lead.consent_given_at is None:
        return ""
    when = formats.date_format(timezone.localtime(lead.consent_given_at), "DATETIME_FORMAT")
    if not lead.consent_version:
        return when
    return _("%(when)s, text version %(version)s") % {"when": when, "version": lead.consent_version}
