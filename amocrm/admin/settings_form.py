"""The amoCRM settings form: secrets never rendered, pipeline/stage and field mapping offered from amoCRM."""

import copy

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from acoustic.singleton_admin import SingletonSettingsForm, secret_input
from amocrm.admin.catalog_choices import choice_field, stage_choices, user_choices, user_help
from amocrm.admin.follow_up_form import FOLLOW_UP_FIELDS, FollowUpForm
from amocrm.api import client, oauth
from amocrm.api.answers import Account
from amocrm.api.catalog import AccountCatalog
from amocrm.api.errors import AmoError
from amocrm.models import ConnectionState, Settings

MAPPING_FIELDS = ("source_field_id", "product_field_id", "marker_field_id")
# The model fields this page edits and saves (the form also has a form-only "remove the token" checkbox).
EDITED_FIELDS = (
    "platform", "domain", "client_id", "client_secret", "long_lived_token",
    "pipeline_id", "status_id", "lead_name_template", "responsible_user_id", "tags",
    *MAPPING_FIELDS, "use_unsorted", "search_contacts_by_phone", *FOLLOW_UP_FIELDS,
)  # fmt: skip


class SettingsForm(FollowUpForm, SingletonSettingsForm):
    edited_fields = EDITED_FIELDS
    secret_fields = ("client_secret", "long_lived_token")

    client_secret = secret_input(Settings, "client_secret")
    long_lived_token = secret_input(Settings, "long_lived_token")
    clear_long_lived_token = forms.BooleanField(
        label=_("Remove the long-lived token"), required=False, help_text=_("Go back to connecting with OAuth.")
    )
    catalog: AccountCatalog | None = None  # set by the admin when amoCRM answered

    class Meta:
        model = Settings
        fields = EDITED_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.verified_account: Account | None = None
        if not self.instance.long_lived_token:
            self.fields["long_lived_token"].help_text = Settings._meta.get_field("long_lived_token").help_text
            del self.fields["clear_long_lived_token"]
        if self.catalog is not None:
            self._offer_catalog(self.catalog)

    def _offer_catalog(self, catalog: AccountCatalog) -> None:
        """Dropdowns instead of number inputs: stages grouped by pipeline, deal fields by name.

        Unsorted (type 1) and won/lost (ids repeated in every pipeline) are no place for a new deal, and without
        them a status id names exactly one pipeline.
        """
        stages = stage_choices(catalog)
        self.fields["status_id"] = self._choice_field("status_id", stages, label=_("Pipeline and stage"))
        if catalog.users is not None:  # only an administrator's connection may list users (users-api)
            users = user_choices(catalog)
            label = capfirst(_("responsible user"))  # a name is chosen, not the "ID" the model's label asks for
            self.fields["responsible_user_id"] = self._choice_field("responsible_user_id", users, label=label)
        field = self.fields["responsible_user_id"]
        field.help_text = user_help(catalog, self.instance.responsible_user_id, field.help_text)
        self.fields["pipeline_id"].widget = forms.HiddenInput()  # follows from the stage chosen (see clean)
        deal_fields = [(f.id, f"{f.name} ({f.type})") for f in catalog.fields]
        for name in MAPPING_FIELDS:
            self.fields[name] = self._choice_field(name, deal_fields)

    def _choice_field(self, name: str, choices: list, label: str | None = None) -> forms.TypedChoiceField:
        return choice_field(self.fields[name], choices, getattr(self.instance, name), label)

    def clean_domain(self) -> str:
        # Staff paste whatever the browser shows: https://acoustic.amocrm.ru/leads/ -> acoustic.amocrm.ru
        domain = self.cleaned_data["domain"].strip().lower().removeprefix("https://").removeprefix("http://")
        domain = domain.split("/")[0]
        if domain and not oauth.is_allowed_account_host(domain):
            raise forms.ValidationError(gettext("Enter an amoCRM or Kommo account address, e.g. acoustic.amocrm.ru."))
        return domain

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

    def fields_to_save(self) -> list[str]:
        """Only what this page edits: tokens are written by the connect flow and the refresh task."""
        names = super().fields_to_save()
        if self.cleaned_data.get("clear_long_lived_token"):
            names = [*dict.fromkeys([*names, "long_lived_token", "state"])]
        return names

    def save_edited(self, conn: Settings) -> None:
        """Save the edited fields; a verified token connects, a removed one leaves OAuth (if any) in charge."""
        if self.cleaned_data.get("clear_long_lived_token"):
            has_oauth = conn.access_token and conn.refresh_token
            conn.state = ConnectionState.CONNECTED if has_oauth else ConnectionState.NOT_CONNECTED
        super().save_edited(conn)
        if self.verified_account is not None:
            conn.mark_connected(self.verified_account.id, self.verified_account.name)
