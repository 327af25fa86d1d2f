"""The site's own deal field for the delivery marker ("Site lead ID"): found or made once, so deal names stay clean.

Every deal carries a marker (lead number and attempt) so that a retry after an unanswered request finds the deal
instead of making a second one. It goes in this field; only while amoCRM refuses to make the field (the integration
was connected by a user who is not an administrator) does it go at the end of the deal name instead.
Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
"""

import logging
from datetime import timedelta

from django.utils.translation import gettext as _

from amocrm.api import catalog, custom_fields
from amocrm.api.errors import RETRYABLE_KINDS, AmoError
from amocrm.models import Settings

logger = logging.getLogger(__name__)

FIELD_NAME = "Site lead ID"
# After a refusal, deliveries ask again this often (staff may make the integration's user an administrator);
# otherwise one process at a time looks, so two never make the field twice.
RETRY_EVERY = timedelta(hours=1)
ONE_AT_A_TIME = timedelta(minutes=1)
# A field only the API writes: managers see the marker but cannot change it by mistake.
NEW_FIELD = {"name": FIELD_NAME, "type": "text", "is_api_only": True, "request_id": "marker"}


def ensure(conn: Settings, now: bool = False) -> None:
    """Find or create the field unless amoCRM has the one stored; `now` skips the once-an-hour limit (on connect).

    Never raises: without the field the marker goes in the deal name, and the reason is kept for the settings page.
    """
    if _stored_field_exists(conn):
        return
    if not Settings.claim_marker_field_check(_interval(conn, now)):
        return
    try:
        field_id = _existing_field(conn) or _created_field(conn)
    except AmoError as error:
        if error.kind in RETRYABLE_KINDS:  # amoCRM busy or unreachable: says nothing about the field
            logger.info("The marker field could not be looked for now (%s)", error.kind)
            return
        reason = _("amoCRM did not let this site create its deal field \"%(name)s\" (%(error)s). Until it exists, "
                   "deal names end with the lead number.") % {"name": FIELD_NAME, "error": error.message}  # fmt: skip
        logger.warning("The marker field could not be found or made: %s", error.kind)
        conn.record_marker_field_problem(reason)
        return
    conn.use_marker_field(field_id)


def _interval(conn: Settings, now: bool) -> timedelta:
    if now:
        return timedelta(0)
    return RETRY_EVERY if conn.marker_field_problem else ONE_AT_A_TIME


def _stored_field_exists(conn: Settings) -> bool:
    """A stored field that amoCRM no longer lists (deleted by staff) is made again."""
    if not conn.marker_field_id:
        return False
    account = catalog.load_or_none(conn)
    return account is None or account.field(conn.marker_field_id) is not None


def _existing_field(conn: Settings) -> int | None:
    # Fresh from amoCRM: a field made a moment ago by another process must be reused, not made twice.
    fields = catalog.load(conn, max_age=0).fields
    found = sorted(f.id for f in fields if f.name == FIELD_NAME and f.type == "text")
    return found[0] if found else None


def _created_field(conn: Settings) -> int:
    created = custom_fields.create_lead_custom_fields(conn, [NEW_FIELD])
    catalog.forget(conn)  # the list just read and cached lacks the new field
    logger.info("Created the deal field %r (%s) for delivery markers", FIELD_NAME, created[0].id)
    return created[0].id
