"""What the browser posts for the amoCRM settings page, for the tests of its sections."""

from amocrm.admin.settings_form import EDITED_FIELDS
from amocrm.models import Settings

URL = "/admin/amocrm/settings/1/change/"
# The table of extra-field mappings below the form, with no rows.
MAPPINGS_MANAGEMENT_FORM = {"extra_field_mappings-TOTAL_FORMS": "0", "extra_field_mappings-INITIAL_FORMS": "0"}


def form_data(conn: Settings, **changes) -> dict:
    """The page as it stands: secret fields empty, as rendered; working days as one value per checkbox."""
    fields = [name for name in EDITED_FIELDS if name not in ("client_secret", "long_lived_token")]
    data = {name: getattr(conn, name) for name in fields}
    data = {name: value for name, value in data.items() if value not in (None, False)}
    data["working_days"] = conn.working_days.split(",")
    return {**data, **MAPPINGS_MANAGEMENT_FORM, **changes}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
