from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from leads.models import IntakeSettings
from leads.phones import InvalidPhone, example_number, normalize_phone
from leads.sources import DEFAULT_SOURCE

# Bots fill every field they see; people never see this one.
HONEYPOT_FIELD = "website"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
CLICK_ID_FIELDS = ("gclid", "yclid", "fbclid")
# Fields the site passes along unseen: hidden in the HTML form, filled from its query string.
TRACKING_FIELDS = ("source", "product_id", "page_url", "referrer", *UTM_FIELDS, *CLICK_ID_FIELDS)
# What a checkbox, a JSON boolean or a script may send for "no"; any other non-blank value means it was ticked.
_NOT_GIVEN = frozenset({"", "0", "false", "off", "no"})


def _hidden(max_length: int) -> forms.CharField:
    return forms.CharField(required=False, max_length=max_length, widget=forms.HiddenInput)


class ConsentCheckbox(forms.CheckboxInput):
    def value_from_datadict(self, data, files, name) -> str:
        # Django's checkbox takes "0" or "off" for ticked; the value goes to ConsentField as sent instead.
        return data.get(name, "")


class ConsentField(forms.BooleanField):
    widget = ConsentCheckbox

    def to_python(self, value) -> bool:
        if isinstance(value, str):
            return value.strip().lower() not in _NOT_GIVEN
        return bool(value)


class LeadForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    phone = forms.CharField(label=_("Phone number"), max_length=64)
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    message = forms.CharField(label=_("Message"), required=False, max_length=5000, widget=forms.Textarea)
    consent = ConsentField(label=_("I agree to the processing of my personal data"), required=False)
    source = forms.SlugField(required=False, max_length=50, widget=forms.HiddenInput)
    product_id = _hidden(100)
    page_url = _hidden(2000)
    referrer = _hidden(2000)
    landing_page = _hidden(2000)
    utm_source = _hidden(255)
    utm_medium = _hidden(255)
    utm_campaign = _hidden(255)
    utm_content = _hidden(255)
    utm_term = _hidden(255)
    first_referrer = _hidden(2000)
    first_landing_page = _hidden(2000)
    first_utm_source = _hidden(255)
    first_utm_medium = _hidden(255)
    first_utm_campaign = _hidden(255)
    first_utm_content = _hidden(255)
    first_utm_term = _hidden(255)
    gclid = _hidden(255)
    yclid = _hidden(255)
    fbclid = _hidden(255)
    ym_uid = _hidden(100)
    ga_client_id = _hidden(100)
    website = forms.CharField(required=False, max_length=2000, label=_("Leave this field empty"))

    def __init__(self, *args, intake: IntakeSettings | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.intake = intake or IntakeSettings.cached()
        self.phone_as_typed = ""
        if self.is_bound:
            # An attribution field the submission leaves out is blank, and a blank optional field cannot be wrong:
            # only those sent are checked (the site script sends a few of the 21); clean() fills in the others.
            self.fields = {
                name: field for name, field in self.fields.items() if name in self.data or name not in _ATTRIBUTION
            }

    def _clean_fields(self) -> None:
        # Django's own builds a BoundField (label, ids, prefixed names) for each field only to read its value: a third
        # of the time validation took. A form that is not rendered needs none (bench/README.md); one that is builds
        # them then. The same steps otherwise: each field's clean(), then the form's clean_<name>().
        for name, field in self.fields.items():
            try:
                value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
                self.cleaned_data[name] = field.clean(value)
                if hasattr(self, f"clean_{name}"):
                    self.cleaned_data[name] = getattr(self, f"clean_{name}")()
            except ValidationError as error:
                self.add_error(name, error)

    def clean_phone(self) -> str:
        # Kept as typed but trimmed, as its length was checked: padding never makes it longer than its column.
        self.phone_as_typed = self.cleaned_data["phone"]
        try:
            return normalize_phone(self.phone_as_typed)
        except InvalidPhone as error:
            raise ValidationError(error.args[0], code="invalid") from error

    def clean_source(self) -> str:
        return self.cleaned_data["source"] or DEFAULT_SOURCE

    def clean_consent(self) -> bool:
        given = self.cleaned_data["consent"]
        if self.intake.consent_required and not given:
            raise ValidationError(_("Please agree to the processing of your personal data."), code="required")
        return given

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned.update(dict.fromkeys(_ATTRIBUTION.difference(self.fields), ""))  # what a blank one cleans to
        return cleaned

    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD))


# The hidden fields made by _hidden(): optional text the site passes along.
_ATTRIBUTION = frozenset(
    name
    for name, field in LeadForm.base_fields.items()
    if type(field) is forms.CharField and isinstance(field.widget, forms.HiddenInput)
)


class _SharedFields(dict):
    """Django deep-copies a form's fields for each instance, so that one may change its own (a label, `required`).
    A LeadForm never does, and the copy of its 28 fields was a fifth of the CPU time the API spends per lead
    (bench/README.md): every instance uses the class's fields instead."""

    def __deepcopy__(self, memo: dict) -> dict:
        return dict(self)


LeadForm.base_fields = _SharedFields(LeadForm.base_fields)


def warm_up() -> None:
    """Validates a made-up lead, which compiles the validators' and phonenumbers' patterns (acoustic/warm_up.py)."""
    sample = {"name": "Warm-up", "phone": example_number(), "email": "warm-up@example.com", "source": "warm_up"}
    LeadForm(data={**sample, "consent": "on"}, intake=IntakeSettings(consent_required=True)).is_valid()
