"""The settings form: secrets never rendered, pipeline/stage and field mapping offered from amoCRM."""

import copy
import logging
from dataclasses import dataclass

from django import forms
from django.core.cache import cache
from django.db.models.fields import BLANK_CHOICE_DASH
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

from amocrm import client
from amocrm.client import Account, AmoError, CustomField, Pipeline
from amocrm.models import ConnectionState, Settings

logger = logging.getLogger(__name__)

# The model fields this page edits and saves (the admin's own Meta.fields also lists form-only fields).
EDITED_FIELDS = [
    "platform", "domain", "client_id", "client_secret", "long_lived_token",
    "pipeline_id", "status_id", "lead_name_template", "responsible_user_id", "tags",
    "source_field_id", "product_field_id", "marker_field_id", "use_unsorted", "search_contacts_by_phone",
]  # fmt: skip
SECRET_FIELDS = ("client_secret", "long_lived_token")
MAPPING_FIELDS = ("source_field_id", "product_field_id", "marker_field_id")
CATALOG_CACHE_SECONDS = 60
# §4.6: every pipeline has Unsorted (type 1) and won/lost (142/143, ids repeated in every pipeline);
# a new deal belongs in none of them, and without them a status id names exactly one pipeline.
CLOSED_STATUS_IDS = {142, 143}


@dataclass
class Catalog:
    """What amoCRM offers for the dropdowns, cached briefly so the page does not call amoCRM each render."""

    pipelines: list[Pipeline]
    fields: list[CustomField]

    def pipeline_of(self, status_id: int) -> int | None:
        return next((p.id for p in self.pipelines for s in p.statuses if s.id == status_id), None)


def load_catalog(conn: Settings) -> Catalog:
    """Pipelines and lead fields from amoCRM (or the cache); raises AmoError when amoCRM cannot say."""
    key = f"amocrm:admin-catalog:{conn.domain}"
    try:
        catalog = cache.get(key)
    except RedisError:
        catalog = None  # the page still works without the cache, only slower
    if catalog is None:
        catalog = Catalog(client.list_pipelines(conn), client.list_lead_custom_fields(conn))
        try:
            cache.set(key, catalog, CATALOG_CACHE_SECONDS)
        except RedisError:
            logger.warning("Cache unavailable; amoCRM lists not cached", exc_info=True)
    return catalog


def _secret_input(name: str) -> forms.CharField:
    # render_value=False: the stored secret never goes back to the browser, not even masked.
    label = capfirst(Settings._meta.get_field(name).verbose_name)
    return forms.CharField(label=label, required=False, widget=forms.PasswordInput(render_value=False))


class SettingsForm(forms.ModelForm):
    client_secret = _secret_input("client_secret")
    long_lived_token = _secret_input("long_lived_token")
    clear_long_lived_token = forms.BooleanField(
        label=_("Remove the long-lived token"), required=False, help_text=_("Go back to connecting with OAuth.")
    )
    catalog: Catalog | None = None  # set by the admin when amoCRM answered

    class Meta:
        model = Settings
        fields = EDITED_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.verified_account: Account | None = None
        self._describe_stored_secrets()
        if self.catalog is not None:
            self._offer_catalog(self.catalog)

    def _describe_stored_secrets(self) -> None:
        keep = gettext("Set. Leave blank to keep it.")
        if self.instance.client_secret:
            self.fields["client_secret"].help_text = keep
        if self.instance.long_lived_token:
            self.fields["long_lived_token"].help_text = keep
        else:
            self.fields["long_lived_token"].help_text = Settings._meta.get_field("long_lived_token").help_text
            del self.fields["clear_long_lived_token"]

    def _offer_catalog(self, catalog: Catalog) -> None:
        """Dropdowns instead of number inputs: stages grouped by pipeline, deal fields by name."""
        stages = [
            (p.name, [(s.id, s.name) for s in p.statuses if s.type == 0 and s.id not in CLOSED_STATUS_IDS])
            for p in catalog.pipelines
        ]
        self.fields["status_id"] = self._choice_field("status_id", stages, label=_("Pipeline and stage"))
        self.fields["pipeline_id"].widget = forms.HiddenInput()  # follows from the stage chosen (see clean)
        deal_fields = [(f.id, f"{f.name} ({f.type})") for f in catalog.fields]
        for name in MAPPING_FIELDS:
            self.fields[name] = self._choice_field(name, deal_fields)

    def _choice_field(self, name: str, choices: list, label: str | None = None) -> forms.TypedChoiceField:
        model_field = self.fields[name]
        return forms.TypedChoiceField(
            label=label or model_field.label,
            help_text=model_field.help_text,
            choices=_with_current([*BLANK_CHOICE_DASH, *choices], getattr(self.instance, name)),
            coerce=int,
            empty_value=None,
            required=False,
        )

    def clean_domain(self) -> str:
        # Staff paste whatever the browser shows: https://acoustic.amocrm.ru/leads/ -> acoustic.amocrm.ru
        domain = self.cleaned_data["domain"].strip().lower().removeprefix("https://").removeprefix("http://")
        domain = domain.split("/")[0]
        if domain and not client.is_allowed_account_host(domain):
            raise forms.ValidationError(gettext("Enter an amoCRM or Kommo account address, e.g. acoustic.amocrm.ru."))
        return domain

    def clean_client_secret(self) -> str:
        return self.cleaned_data["client_secret"] or self.instance.client_secret

    def clean_long_lived_token(self) -> str:
        return self.cleaned_data["long_lived_token"] or self.instance.long_lived_token

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.catalog is not None and cleaned.get("status_id"):
            cleaned["pipeline_id"] = self.catalog.pipeline_of(cleaned["status_id"]) or cleaned.get("pipeline_id")
        if cleaned.get("clear_long_lived_token"):
            cleaned["long_lived_token"] = ""
        elif self.typed("long_lived_token"):
            self._verify_long_lived_token(cleaned)
        return cleaned

    def _verify_long_lived_token(self, cleaned: dict) -> None:
        """A pasted token must work before it replaces anything: one get_account call with it."""
        if not cleaned.get("domain"):
            self.add_error("domain", gettext("A long-lived token needs the account domain."))
            return
        trial = copy.copy(self.instance)  # not saved: only carries the token and host for the call
        trial.long_lived_token, trial.domain = cleaned["long_lived_token"], cleaned["domain"]
        try:
            self.verified_account = client.get_account(trial)
        except AmoError as error:
            self.add_error(
                "long_lived_token", gettext("amoCRM did not accept this token: %(error)s") % {"error": error.message}
            )

    def typed(self, name: str) -> bool:
        """True if staff typed a new value into this secret field (blank means keep the stored one)."""
        return bool(self.data.get(self.add_prefix(name), "").strip())

    def fields_to_save(self) -> list[str]:
        """Only what this page edits: tokens are written by the connect flow and the refresh task."""
        names = [name for name in EDITED_FIELDS if name not in SECRET_FIELDS]
        names += [name for name in SECRET_FIELDS if self.typed(name)]
        if self.cleaned_data.get("clear_long_lived_token"):
            names += ["long_lived_token", "state"]
        return [*dict.fromkeys(names), "updated_at"]

    def save_edited(self, conn: Settings) -> None:
        """Save the edited fields; a verified token connects, a removed one leaves OAuth (if any) in charge."""
        if self.cleaned_data.get("clear_long_lived_token"):
            has_oauth = conn.access_token and conn.refresh_token
            conn.state = ConnectionState.CONNECTED if has_oauth else ConnectionState.NOT_CONNECTED
        conn.save(update_fields=self.fields_to_save())
        if self.verified_account is not None:
            conn.mark_connected(self.verified_account.id, self.verified_account.name)


def _with_current(choices: list, current: int | None) -> list:
    """Keep a stored id selectable even if amoCRM no longer lists it, so saving does not silently clear it."""
    known: set = set()
    for value, label in choices:
        known |= {option for option, _name in label} if isinstance(label, list) else {value}
    if current is None or current in known:
        return choices
    return [*choices, (current, gettext("#%(id)s (not found in amoCRM)") % {"id": current})]
