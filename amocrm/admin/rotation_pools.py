"""Rotation pools as staff edit them: managers chosen by name from amoCRM, in order, with optional weights."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from amocrm.admin.catalog_choices import choice_field, page_catalog, user_choices, user_label
from amocrm.api.catalog import AccountCatalog
from amocrm.models import RotationMember, RotationPool


class RotationMemberForm(forms.ModelForm):
    catalog: AccountCatalog | None = None  # set by the admin when amoCRM listed its users

    class Meta:
        model = RotationMember
        fields = ("position", "user_id", "weight")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.catalog is not None and self.catalog.users is not None:
            field = self.fields["user_id"]
            user = choice_field(field, user_choices(self.catalog), self.instance.user_id)
            user.required, user.empty_value = True, None
            self.fields["user_id"] = user


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    form = RotationMemberForm
    extra = 1
    # The "add another" link puts the singular mid-sentence (capitalised); the plural would follow it, so it is kept.
    verbose_name, verbose_name_plural = _("manager"), RotationMember._meta.verbose_name_plural

    class Media:
        css = {"all": ["amocrm/rotation_members.css"]}

    def get_formset(self, request: HttpRequest, obj: RotationPool | None = None, **kwargs):
        account = page_catalog(request)
        if account is not None:
            kwargs["form"] = type(self.form.__name__, (self.form,), {"catalog": account})
        return super().get_formset(request, obj, **kwargs)


@admin.register(RotationPool)
class RotationPoolAdmin(admin.ModelAdmin):
    inlines = (RotationMemberInline,)
    fields = ("name", "turn")
    readonly_fields = ("turn",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("members")

    def get_list_display(self, request: HttpRequest) -> list:
        return ["name", _managers_column(page_catalog(request)), "turn"]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        pool = self.get_object(request, object_id)
        account = page_catalog(request)
        if request.method == "GET" and pool is not None and account is not None and account.users is not None:
            for member in pool.members.all():
                if why := account.user_unavailable(member.user_id):
                    messages.warning(request, gettext("%(why)s: skipped in this rotation.") % {"why": why})
        return super().change_view(request, object_id, form_url, extra_context)


def _managers_column(account: AccountCatalog | None):
    @admin.display(description=_("managers"))
    def managers(pool: RotationPool) -> str:
        members = pool.members.all()
        return ", ".join(f"{user_label(account, m.user_id)} ×{m.weight}" for m in members) or "—"

    return managers
