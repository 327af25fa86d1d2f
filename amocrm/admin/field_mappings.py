"""The settings page's table of extra form fields sent to deal fields: key typed or picked, field from amoCRM."""

from django import forms
from django.contrib import admin
from django.db.models.fields import BLANK_CHOICE_DASH
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from amocrm.admin.catalog_choices import with_current
from amocrm.api.catalog import AccountCatalog
from amocrm.delivery.deal_fields import CHOICE_TYPES, TEXT_TYPES
from amocrm.models import ExtraFieldMapping, Settings
from leads.models import Lead

# The keys offered while typing come from this many recent leads.
RECENT_LEADS = 500
DATALIST_ID = "amocrm-extra-keys"
CATALOG_ATTR = "_amocrm_catalog"  # set on the request by the settings page once it has asked amoCRM


class ExtraFieldMappingForm(forms.ModelForm):
    catalog: AccountCatalog | None = None
    recent_keys: list[str] = []

    class Meta:
        model = ExtraFieldMapping
        fields = ("key", "field_id")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].widget = _KeyInput(self.recent_keys)
        if self.catalog is not None:
            deal_fields = [(f.id, f"{f.name} ({f.type})") for f in self.catalog.fields if _fillable(f.type)]
            self.fields["field_id"] = forms.TypedChoiceField(
                label=self.fields["field_id"].label,
                choices=with_current([*BLANK_CHOICE_DASH, *deal_fields], self.instance.field_id),
                coerce=int,
            )

    def clean_key(self) -> str:
        return self.cleaned_data["key"].strip()


class _KeyInput(forms.TextInput):
    """A text input with the keys recent leads carried as suggestions (an HTML datalist)."""

    def __init__(self, suggestions: list[str]) -> None:
        super().__init__(attrs={"list": DATALIST_ID})
        self.suggestions = suggestions

    def render(self, name, value, attrs=None, renderer=None) -> str:
        options = format_html_join("", '<option value="{}">', ((key,) for key in self.suggestions))
        datalist = format_html('<datalist id="{}">{}</datalist>', DATALIST_ID, options)
        return super().render(name, value, attrs, renderer) + datalist


class ExtraFieldMappingInline(admin.TabularInline):
    model = ExtraFieldMapping
    form = ExtraFieldMappingForm
    extra = 1
    verbose_name_plural = _("Other form fields in deal fields")

    def get_formset(self, request: HttpRequest, obj: Settings | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        attrs = {"catalog": getattr(request, CATALOG_ATTR, None), "recent_keys": recent_keys()}
        formset.form = type(formset.form.__name__, (formset.form,), attrs)
        return formset


def recent_keys() -> list[str]:
    keys: dict[str, None] = {}
    for extra in Lead.objects.order_by("-id").values_list("extra", flat=True)[:RECENT_LEADS]:
        keys.update(dict.fromkeys(extra or {}))
    return sorted(keys)


def _fillable(field_type: str) -> bool:
    return field_type in TEXT_TYPES + CHOICE_TYPES
