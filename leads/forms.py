from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from leads.phones import InvalidPhone, normalize_phone

# Bots fill every field they see; people never see this one.
HONEYPOT_FIELD = "website"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# Fields the site passes along unseen: hidden in the HTML form, filled from its query string.
TRACKING_FIELDS = ("source", "product_id", "page_url", "referrer", *UTM_FIELDS)


class LeadForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    phone = forms.CharField(label=_("Phone number"), max_length=64)
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    message = forms.CharField(label=_("Message"), required=False, max_length=5000, widget=forms.Textarea)
    source = forms.SlugField(required=False, max_length=50, widget=forms.HiddenInput)
    product_id = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    page_url = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    referrer = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    utm_source = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    utm_medium = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    utm_campaign = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    utm_content = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    utm_term = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    website = forms.CharField(required=False, max_length=2000, label=_("Leave this field empty"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.phone_as_typed = ""

    def clean_phone(self) -> str:
        # Kept as typed but trimmed, as its length was checked: padding never makes it longer than its column.
        self.phone_as_typed = self.cleaned_data["phone"]
        try:
            return normalize_phone(self.phone_as_typed)
        except InvalidPhone as error:
            raise ValidationError(error.args[0], code="invalid") from error

    def clean_source(self) -> str:
        return self.cleaned_data["source"] or "contact_form"

    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD))
