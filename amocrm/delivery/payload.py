"""What one of our leads looks like in amoCRM: the complex-lead body, the unsorted form, the note."""

from django.conf import settings as django_settings
from django.utils import translation
from django.utils.translation import gettext

from amocrm.delivery import deal_fields
from amocrm.delivery.deal_fields import FieldPlan
from amocrm.delivery.note_text import has_note, note_text
from amocrm.models import Delivery, Settings
from leads import sources
from leads.models import Lead

__all__ = [
    "complex_lead", "contact_model", "deal_name", "delivery_note_text", "has_note", "marker_for", "needs_note", "note",
    "note_text", "unsorted_form",
]  # fmt: skip

DEFAULT_NAME_TEMPLATE = "Yangi so'rov: {name}"
_MAX_TEXT = 255


def marker_for(delivery: Delivery, batch_token: str) -> str:
    """Unique to this lead and this attempt; the batch token alone finds every deal of the attempt."""
    return f"#{delivery.lead_id} {batch_token}"


def complex_lead(conn: Settings, delivery: Delivery, fields: FieldPlan, contact_id: int | None) -> dict:
    """One element of POST /api/v4/leads/complex: the deal with its contact embedded."""
    lead = delivery.lead
    body: dict = {
        "request_id": str(delivery.id),
        "name": deal_name(conn, delivery, marker_in_name=fields.marker_field_id is None),
        "price": 0,
        "_embedded": {
            "tags": [{"name": tag} for tag in delivery.tag_names()],
            "contacts": [{"id": contact_id} if contact_id else contact_model(lead)],
        },
    }
    for key in ("pipeline_id", "status_id", "responsible_user_id"):  # the route recorded on the delivery
        if getattr(delivery, key):
            body[key] = getattr(delivery, key)
    values = deal_fields.values(fields, delivery)
    if values:
        body["custom_fields_values"] = values
    return body


def deal_name(conn: Settings, delivery: Delivery, marker_in_name: bool = False) -> str:
    """The name template filled in; the marker at the end only while the account has no field for it."""
    lead = delivery.lead
    values = {"name": lead.name, "phone": lead.phone, "source": lead.source, "product_id": lead.product_id}
    try:
        name = (conn.lead_name_template or DEFAULT_NAME_TEMPLATE).format_map(values)
    except (KeyError, ValueError, IndexError, AttributeError):
        # A template staff mistyped must not stop deliveries.
        name = DEFAULT_NAME_TEMPLATE.format_map(values)
    if marker_in_name:
        suffix = f" [{delivery.marker}]"
        return name[: _MAX_TEXT - len(suffix)] + suffix  # the marker must survive the cut: a retry looks for it
    return name[:_MAX_TEXT]


def contact_model(lead: Lead) -> dict:
    """A new contact: name, PHONE and EMAIL by field_code with enum_code WORK (MOB/PRIV also exist).

    Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
    """
    fields = [{"field_code": "PHONE", "values": [{"value": lead.phone, "enum_code": "WORK"}]}]
    if lead.email:
        fields.append({"field_code": "EMAIL", "values": [{"value": lead.email, "enum_code": "WORK"}]})
    return {"name": lead.name[:_MAX_TEXT], "custom_fields_values": fields}


def unsorted_form(conn: Settings, delivery: Delivery, fields: FieldPlan) -> dict:
    """One element of POST /api/v4/leads/unsorted/forms: the deal lands in Incoming leads."""
    lead = delivery.lead
    deal = complex_lead(conn, delivery, fields, contact_id=None)
    contact = deal["_embedded"].pop("contacts")[0]
    # The form carries the pipeline; the lead inside takes no stage (it waits in Unsorted).
    # Reference: https://www.amocrm.ru/developers/content/crm_platform/unsorted-api
    for key in ("request_id", "status_id", "pipeline_id"):
        deal.pop(key, None)
    item = {
        "request_id": str(delivery.id),
        "source_uid": f"acoustic-{lead.source}",
        "source_name": f"Acoustic.uz ({_in_site_language(sources.form_name, lead.source)})",
        "created_at": int(lead.created_at.timestamp()),
        "metadata": {
            "form_id": lead.source,
            "form_name": _in_site_language(sources.form_name, lead.source),
            "form_page": lead.page_url or django_settings.SITE_URL,
            "ip": lead.client_ip or "",
            "form_sent_at": int(lead.created_at.timestamp()),
            "referer": lead.referrer,
        },
        "_embedded": {"leads": [deal], "contacts": [contact]},
    }
    if delivery.pipeline_id:
        item["pipeline_id"] = delivery.pipeline_id
    return item


def note(delivery: Delivery) -> dict:
    """A common note on the deal with the message and where the lead came from."""
    return {
        "entity_id": delivery.amocrm_lead_id,
        "note_type": "common",
        "params": {"text": delivery_note_text(delivery)},
        "request_id": str(delivery.id),
    }


def delivery_note_text(delivery: Delivery) -> str:
    """The note's text; a repeat request says so first, since it lands on a deal the manager already knows."""
    text = note_text(delivery.lead)
    if not delivery.is_repeat:
        return text
    with translation.override(django_settings.LANGUAGE_CODE):
        heading = gettext("Repeat request")
    return f"{heading}\n{text}"


def needs_note(delivery: Delivery) -> bool:
    """A repeat request always gets one (it is how the manager hears of it); a new deal when it has details."""
    return delivery.is_repeat or has_note(delivery.lead)


def _in_site_language(translate, value: str) -> str:
    with translation.override(django_settings.LANGUAGE_CODE):
        return translate(value)
