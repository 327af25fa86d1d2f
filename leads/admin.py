import re

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from leads.models import Lead


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("name", "masked_phone", "source", "created_at")
    list_filter = ("source", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("name", "phone", "email")
    readonly_fields = [field.name for field in Lead._meta.fields if field.name != "dispatch_pending"]

    @admin.display(description=_("phone"), ordering="phone")
    def masked_phone(self, lead: Lead) -> str:
        return lead.masked_phone

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
