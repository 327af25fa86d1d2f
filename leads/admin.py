import re

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from leads.extra_fields import label
from leads.models import IntakeSettings, Lead

_FIRST_TOUCH = ("first_utm_source", "first_utm_medium", "first_utm_campaign", "first_utm_content", "first_utm_term")
_LAST_TOUCH = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("name", "masked_phone", "source", "created_at")
    list_filter = ("source", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("name", "phone", "email")
    # A lead's page reads top to bottom: who, what they asked, where they came from (staff's questions in that order).
    fieldsets = (
        (_("The person"), {"fields": ("name", "phone", "phone_raw", "email", "consent_given_at", "consent_version")}),
        (_("What they asked"), {"fields": ("message", "product_id", "source", "created_at", "other_fields")}),
        (_("Where they came from"), {"fields": ("page_url", "landing_page", "referrer", *_LAST_TOUCH)}),
        (_("First touch"), {"fields": ("first_landing_page", "first_referrer", *_FIRST_TOUCH)}),
        (_("Click and analytics ids"), {"fields": ("gclid", "yclid", "fbclid", "ym_uid", "ga_client_id")}),
        (_("Visitor"), {"fields": ("client_ip", "user_agent")}),
    )
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    @admin.display(description=_("phone"), ordering="phone")
    def masked_phone(self, lead: Lead) -> str:
        return lead.masked_phone

    @admin.display(description=_("other fields"))
    def other_fields(self, lead: Lead) -> str:
        # Names and values are what a visitor's browser sent: data, always escaped.
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", ((label(k), v) for k, v in lead.extra.items()))
        return format_html("<table>{}</table>", rows) if lead.extra else "–"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Staff type phones the way customers say them ("90 123 45 67"); compare digits only.
        digits = re.sub(r"\D", "", search_term)
        if len(digits) >= 4:
            results |= queryset.filter(phone__contains=digits)
        return results, may_have_duplicates

    def has_add_permission(self, request) -> bool:
        # Leads come from the site's forms, never typed in by hand.
        return False


@admin.register(IntakeSettings)
class IntakeSettingsAdmin(admin.ModelAdmin):
    fields = ("consent_required", "consent_version")

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponseRedirect:
        # One row: the list would only ever show it.
        return redirect("admin:leads_intakesettings_change", IntakeSettings.load().pk)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
