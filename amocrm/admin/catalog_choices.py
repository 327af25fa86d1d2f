"""Dropdowns from the amoCRM account catalog: stages grouped by pipeline and users by name, never typed numbers."""

from django import forms
from django.contrib import messages
from django.db.models.fields import BLANK_CHOICE_DASH
from django.http import HttpRequest
from django.utils.translation import gettext

from amocrm.api import catalog
from amocrm.api.catalog import AccountCatalog
from amocrm.api.errors import AmoError
from amocrm.models import CLOSED_STATUS_IDS, Settings
from amocrm.models.manager_work import CALL_TASK_TYPE_ID

# The dropdowns may lag amoCRM by at most this much (a stage or user staff just added should show up soon).
CATALOG_MAX_AGE_SECONDS = 60


def page_catalog(request: HttpRequest) -> AccountCatalog | None:
    """The catalog for an admin page's dropdowns; None (number inputs) when not connected or amoCRM is unreachable.

    Asked once per request: a page's form, inlines and columns share it (and one warning).
    """
    if not hasattr(request, "amocrm_catalog"):
        request.amocrm_catalog = _load_for_page(request)
    return request.amocrm_catalog


def _load_for_page(request: HttpRequest) -> AccountCatalog | None:
    conn = Settings.load()
    if not conn.is_connected:
        return None
    try:
        return catalog.load(conn, max_age=CATALOG_MAX_AGE_SECONDS)
    except AmoError as error:
        if request.method == "GET":
            warning = gettext("Could not load pipelines and users from amoCRM (%(error)s). Type the ids instead.")
            messages.warning(request, warning % {"error": error.message})
        return None


def stage_choices(account: AccountCatalog) -> list:
    """Stages grouped by pipeline, without Unsorted (type 1) and won/lost (ids repeated in every pipeline): no place
    for a new deal, and without them a status id names exactly one pipeline."""
    return [
        (p.name, [(s.id, s.name) for s in p.statuses if s.type == 0 and s.id not in CLOSED_STATUS_IDS])
        for p in account.pipelines
    ]


def user_choices(account: AccountCatalog) -> list:
    """Users by name, active ones first; a deactivated user stays listed, marked, so a stored choice reads right."""
    users = sorted(account.users or [], key=lambda u: (not u.is_active, u.name.casefold()))
    return [(user.id, user_label(account, user.id)) for user in users]


def user_label(account: AccountCatalog | None, user_id: int | None) -> str:
    """A user's name as amoCRM has it, saying so when they are deactivated or gone; the id when names are unknown."""
    if user_id is None:
        return "—"
    user = account.user(user_id) if account is not None else None
    if user is None:
        known = account is not None and account.users is not None
        return gettext("#%(id)s (not found in amoCRM)") % {"id": user_id} if known else f"#{user_id}"
    if not user.is_active:
        return gettext("%(name)s (deactivated in amoCRM, skipped)") % {"name": user.name}
    return user.name


def choice_field(model_field: forms.Field, choices: list, current: int | None, label=None) -> forms.TypedChoiceField:
    """A dropdown in place of a number input; the stored id stays selectable even if amoCRM no longer lists it."""
    return forms.TypedChoiceField(
        label=label or model_field.label,
        help_text=model_field.help_text,
        choices=with_current([*BLANK_CHOICE_DASH, *choices], current),
        coerce=int,
        empty_value=None,
        required=False,
    )


def with_current(choices: list, current: int | None) -> list:
    """Keep a stored id selectable even if amoCRM no longer lists it, so saving does not silently clear it."""
    known: set = set()
    for value, label in choices:
        known |= {option for option, _name in label} if isinstance(label, list) else {value}
    if current is None or current in known:
        return choices
    return [*choices, (current, gettext("#%(id)s (not found in amoCRM)") % {"id": current})]


def task_type_choices(account: AccountCatalog | None) -> list:
    """The account's task types by name; without amoCRM's list, its two standard types (same ids everywhere)."""
    # Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api
    if account is not None and account.task_types:
        return [(task_type.id, task_type.name) for task_type in account.task_types]
    return [(CALL_TASK_TYPE_ID, gettext("Call")), (2, gettext("Meeting"))]


def user_help(account: AccountCatalog, current: int | None, help_text: str) -> str:
    """The field's help, plus why the chosen user gets no leads when amoCRM has deactivated or removed them."""
    if account.users is None:
        return gettext("amoCRM lists users only to an administrator: connect as one to choose users by name.")
    why = account.user_unavailable(current) if current else ""
    if not why:
        return help_text
    return gettext("%(why)s: leads skip this user until you choose another.") % {"why": why}
