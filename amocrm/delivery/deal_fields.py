"""Which deal fields a lead fills: tracking codes, the marker, source and product, and staff's extra-field mappings.

What the account has decides, once per batch, from the account catalog: a field amoCRM no longer lists, or of a
type we cannot fill, is left out (with its reason on the settings page), never a reason to refuse the lead.
Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
"""

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from amocrm.api.answers import CustomField
from amocrm.api.catalog import AccountCatalog
from amocrm.models import Delivery, ExtraFieldMapping, Settings
from leads.models import Lead

logger = logging.getLogger(__name__)

# The lead's attribution and the tracking_data ("UTM") field codes amoCRM accounts carry; which exist differs, so
# only those the account lists are filled. amoCRM's own forms fill REFERRER, integrations UTM_REFERRER: both.
TRACKING_CODES = {
    "UTM_SOURCE": "utm_source", "UTM_MEDIUM": "utm_medium", "UTM_CAMPAIGN": "utm_campaign",
    "UTM_CONTENT": "utm_content", "UTM_TERM": "utm_term", "UTM_REFERRER": "referrer", "REFERRER": "referrer",
    "GCLID": "gclid", "YCLID": "yclid", "FBCLID": "fbclid", "_YM_UID": "ym_uid", "GCLIENTID": "ga_client_id",
}  # fmt: skip
TEXT_TYPES = ("text", "textarea", "url")
CHOICE_TYPES = ("select", "multiselect", "radiobutton")
# amoCRM takes at most 40 field values per entity in one request.
MAX_VALUES = 40
MAX_TEXT = 255
_URL = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class FieldPlan:
    tracking: dict[str, int] = field(default_factory=dict)  # code -> field id, those the account has
    marker_field_id: int | None = None  # None: the marker goes in the deal name
    source_field_id: int | None = None
    product_field_id: int | None = None
    mappings: dict[str, CustomField] = field(default_factory=dict)  # extra key -> the deal field it fills


def plan(conn: Settings, account: AccountCatalog) -> FieldPlan:
    """The fields chosen in the settings that amoCRM still has (a deleted one would make it refuse every deal)."""
    mappings = {m.key: account.field(m.field_id) for m in ExtraFieldMapping.objects.all()}
    return FieldPlan(
        tracking=account.tracking_field_ids(),
        marker_field_id=_existing(account, conn.marker_field_id),
        source_field_id=_existing(account, conn.source_field_id),
        product_field_id=_existing(account, conn.product_field_id),
        mappings={key: found for key, found in mappings.items() if found and found.type in TEXT_TYPES + CHOICE_TYPES},
    )


def _existing(account: AccountCatalog, field_id: int | None) -> int | None:
    found = account.field(field_id)
    return found.id if found else None


def mapping_problems(account: AccountCatalog) -> list[str]:
    """For the settings page: each mapping that is skipped, and why."""
    problems = []
    for mapping in ExtraFieldMapping.objects.all():
        found = account.field(mapping.field_id)
        if found is None:
            text = _('"%(key)s" is not sent: deal field #%(id)s no longer exists in amoCRM.')
        elif found.type not in TEXT_TYPES + CHOICE_TYPES:
            text = _('"%(key)s" is not sent: deal fields of type %(type)s cannot be filled from the site.')
        else:
            continue
        problems.append(text % {"key": mapping.key, "id": mapping.field_id, "type": found.type if found else ""})
    return problems


def values(fields: FieldPlan, delivery: Delivery) -> list[dict]:
    """custom_fields_values of the deal: the marker first (a retry depends on it), at most MAX_VALUES."""
    lead = delivery.lead
    mapped = [(fields.marker_field_id, delivery.marker), (fields.source_field_id, lead.source),
              (fields.product_field_id, lead.product_id)]  # fmt: skip
    mapped += [(field_id, getattr(lead, TRACKING_CODES[code])) for code, field_id in fields.tracking.items()]
    found = [_text(field_id, value) for field_id, value in mapped if field_id and value]
    found += [value for key in lead.extra if key in fields.mappings and (value := _extra(fields, lead, key))]
    return found[:MAX_VALUES]


def _extra(fields: FieldPlan, lead: Lead, key: str) -> dict | None:
    target, value = fields.mappings[key], str(lead.extra[key])
    if target.type in CHOICE_TYPES:
        enum = next((e for e in target.enums if e.value.casefold() == value.strip().casefold()), None)
        if enum is None:
            logger.warning("Lead %s: %r is not a choice of deal field %s; left to the note", lead.id, key, target.id)
            return None
        return {"field_id": target.id, "values": [{"enum_id": enum.id}]}
    if target.type == "url" and not _is_url(value):
        logger.warning("Lead %s: %r is not a URL for deal field %s; left to the note", lead.id, key, target.id)
        return None
    return {"field_id": target.id, "values": [{"value": value if target.type == "textarea" else value[:MAX_TEXT]}]}


def _is_url(value: str) -> bool:
    try:
        _URL(value)
    except ValidationError:
        return False
    return True


def _text(field_id: int, value: str) -> dict:
    return {"field_id": field_id, "values": [{"value": str(value)[:MAX_TEXT]}]}
