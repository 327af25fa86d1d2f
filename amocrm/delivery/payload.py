"""What one of our leads looks like in amoCRM: the complex-lead body, the unsorted form, the note."""

from django.conf import settings as django_settings
from django.utils import translation
from django.utils.translation import gettext as _

from amocrm.models import Delivery, Settings
from leads.forms import UTM_FIELDS
from leads.models import Lead

DEFAULT_NAME_TEMPLATE = "Yangi so'rov: {name}"
# Our lead fields and the codes amoCRM's tracking_data ("UTM") fields carry on accounts (which exist differs).
# Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
TRACKING_CODES = {**{name: name.upper() for name in UTM_FIELDS}, "referrer": "UTM_REFERRER"}
# amoCRM rejects more than 40 custom-field values per entity in a complex add; we send at most 9.
_MAX_TEXT = 255


def marker_for(delivery: Delivery, batch_token: str) -> str:
    """Unique to this lead and this attempt; the batch token alone finds every deal of the attempt."""
    return f"#{delivery.lead_id} {batch_token}"


def complex_lead(conn: Settings, delivery: Delivery, tracking_fields: dict[str, int], contact_id: int | None) -> dict:
    """One element of POST /api/v4/leads/complex: the deal with its contact embedded."""
    lead = delivery.lead
    body: dict = {
        "request_id": str(delivery.id),
        "name": deal_name(conn, delivery),
        "price": 0,
        "_embedded": {
            "tags": [{"name": tag} for tag in delivery.tag_names()],
            "contacts": [{"id": contact_id} if contact_id else contact_model(lead)],
        },
    }
    for key in ("pipeline_id", "status_id", "responsible_user_id"):  # the route recorded on the delivery
        if getattr(delivery, key):
            body[key] = getattr(delivery, key)
    fields = deal_fields(conn, delivery, tracking_fields)
    if fields:
        body["custom_fields_values"] = fields
    return body


def deal_name(conn: Settings, delivery: Delivery) -> str:
    lead = delivery.lead
    values = {"name": lead.name, "phone": lead.phone, "source": lead.source, "product_id": lead.product_id}
    try:
        name = (conn.lead_name_template or DEFAULT_NAME_TEMPLATE).format_map(values)
    except (KeyError, ValueError, IndexError, AttributeError):
        # A template staff mistyped must not stop deliveries.
        name = DEFAULT_NAME_TEMPLATE.format_map(values)
    if not conn.marker_field_id:
        name = f"{name} [{delivery.marker}]"
    return name[:_MAX_TEXT]


def deal_fields(conn: Settings, delivery: Delivery, tracking_fields: dict[str, int]) -> list[dict]:
    lead = delivery.lead
    fields = [
        _text(tracking_fields[code], getattr(lead, attr))
        for attr, code in TRACKING_CODES.items()
        if code in tracking_fields and getattr(lead, attr)
    ]
    mapped = [
        (conn.source_field_id, lead.source),
        (conn.product_field_id, lead.product_id),
        (conn.marker_field_id, delivery.marker),
    ]
    fields += [_text(field_id, value) for field_id, value in mapped if field_id and value]
    return fields


def contact_model(lead: Lead) -> dict:
    """A new contact: name, PHONE and EMAIL by field_code with enum_code WORK (MOB/PRIV also exist).

    Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
    """
    fields = [{"field_code": "PHONE", "values": [{"value": lead.phone, "enum_code": "WORK"}]}]
    if lead.email:
        fields.append({"field_code": "EMAIL", "values": [{"value": lead.email, "enum_code": "WORK"}]})
    return {"name": lead.name[:_MAX_TEXT], "custom_fields_values": fields}


def unsorted_form(conn: Settings, delivery: Delivery, tracking_fields: dict[str, int]) -> dict:
    """One element of POST /api/v4/leads/unsorted/forms: the deal lands in Incoming leads."""
    lead = delivery.lead
    deal = complex_lead(conn, delivery, tracking_fields, contact_id=None)
    contact = deal["_embedded"].pop("contacts")[0]
    # The form carries the pipeline; the lead inside takes no stage (it waits in Unsorted).
    # Reference: https://www.amocrm.ru/developers/content/crm_platform/unsorted-api
    for key in ("request_id", "status_id", "pipeline_id"):
        deal.pop(key, None)
    item = {
        "request_id": str(delivery.id),
        "source_uid": f"acoustic-{lead.source}",
        "source_name": f"Acoustic.uz ({lead.source})",
        "created_at": int(lead.created_at.timestamp()),
        "metadata": {
            "form_id": lead.source,
            "form_name": lead.source,
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
        heading = _("Repeat request")
    return f"{heading}\n{text}"


def note_text(lead: Lead) -> str:
    # Staff read amoCRM in the site's default language.
    with translation.override(django_settings.LANGUAGE_CODE):
        lines = [
            (_("Message"), lead.message),
            (_("Form"), lead.source),
            (_("Page"), lead.page_url),
            (_("Product"), lead.product_id),
            (_("Came from"), lead.referrer),
            ("UTM", " / ".join(v for v in (lead.utm_source, lead.utm_medium, lead.utm_campaign) if v)),
            ("utm_content", lead.utm_content),
            ("utm_term", lead.utm_term),
        ]
        return "\n".join(f"{label}: {value}" for label, value in lines if value)


def _text(field_id: int, value: str) -> dict:
    return {"field_id": field_id, "values": [{"value": str(value)[:_MAX_TEXT]}]}
