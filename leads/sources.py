"""The site's forms by their `source` slug, and the names staff read instead of the slug.

The slug stays what machines see (tags, filters, the API); people see the name, in their language.
"""

from django.utils.translation import gettext_lazy as _

from leads import extra_fields

DEFAULT_SOURCE = "contact_form"
FORM_NAMES = {
    DEFAULT_SOURCE: _("Contact form"),
    "callback": _("Call back request"),
    "product_page": _("Product page request"),
}


def form_name(source: str) -> str:
    """The form's name in the active language; a slug the site made up reads as words ('price_list' -> 'Price list')."""
    known = FORM_NAMES.get(source)
    return str(known) if known is not None else extra_fields.label(source)
