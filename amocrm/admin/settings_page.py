from pathlib import Path

from django.conf import settings as django_settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from amocrm import client, webhook_admin
from amocrm.admin_forms import Catalog, SettingsForm, load_catalog
from amocrm.client import AmoError
from amocrm.connection_panel import panel
from amocrm.health_panel import health_panel
from amocrm.models import Settings
from amocrm.request_log import RequestLog

GUIDE_LANGUAGES = {"en": "English", "uz": "O'zbekcha"}


@admin.register(Settings)
class SettingsAdmin(admin.ModelAdmin):
    """One row, opened straight on its change page, with the connection panel and Connect / Test buttons."""

    form = SettingsForm
    fieldsets = (
        (_("amoCRM integration"), {"fields": ("platform", "domain", "client_id", "client_secret")}),
        (
            _("Long-lived token (instead of Connect)"),
            {"classes": ("collapse",), "fields": ("long_lived_token", "clear_long_lived_token")},
        ),
        (
            _("Where new deals go"),
            {"fields": ("pipeline_id", "status_id", "lead_name_template", "responsible_user_id", "tags")},
        ),
        (_("Deal fields"), {"fields": ("source_field_id", "product_field_id", "marker_field_id")}),
        (_("Options"), {"fields": ("use_unsorted", "search_contacts_by_phone")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Settings | None = None) -> tuple:
        if obj is not None and obj.long_lived_token:
            return self.fieldsets
        # The "remove" checkbox exists only while a long-lived token is stored.
        token_fieldset = (self.fieldsets[1][0], {**self.fieldsets[1][1], "fields": ("long_lived_token",)})
        return (self.fieldsets[0], token_fieldset, *self.fieldsets[2:])

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("test/", wrap(require_POST(self.test_connection_view)), name="amocrm_settings_test"),
            path("guide/<str:language>/", wrap(self.guide_view), name="amocrm_settings_guide"),
            *webhook_admin.admin_urls(self),  # Subscribe / Unsubscribe to stage changes
            *super().get_urls(),  # after ours: the default "<object_id>/" pattern would swallow "test/"
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Settings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Settings | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponseRedirect:
        return redirect("admin:amocrm_settings_change", Settings.load().pk)

    def get_form(self, request: HttpRequest, obj: Settings | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        catalog = self._catalog(request, obj)
        return type(form.__name__, (form,), {"catalog": catalog}) if catalog else form

    def _catalog(self, request: HttpRequest, obj: Settings | None) -> Catalog | None:
        """amoCRM's pipelines and fields once connected; None (number inputs) if not, or if it is unreachable."""
        if obj is None or not obj.is_connected:
            return None
        try:
            return load_catalog(obj)
        except AmoError as error:
            if request.method == "GET":
                warning = gettext("Could not load pipelines and fields from amoCRM (%(error)s). Type the ids instead.")
                messages.warning(request, warning % {"error": error.message})
            return None

    def save_model(self, request: HttpRequest, obj: Settings, form: SettingsForm, change: bool) -> None:
        form.save_edited(obj)  # never a full save: a token refresh elsewhere may have replaced the tokens

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        context = {
            **(extra_context or {}),
            "panel": panel(Settings.load()),
            "health": health_panel(),
            "webhook": webhook_admin.panel(Settings.load()),
            "redirect_uri": client.redirect_uri(),
            "authorize_url": reverse("amocrm:authorize"),
            "guide_languages": GUIDE_LANGUAGES,
        }
        return super().change_view(request, object_id, form_url, context)

    def test_connection_view(self, request: HttpRequest) -> HttpResponse:
        """POST from the "Test connection" button: one get_account call, the outcome as a message."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            account = client.get_account(Settings.load())
        except AmoError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, gettext("amoCRM answered: connected to %(name)s.") % {"name": account.name})
        return redirect("admin:amocrm_settings_change", 1)

    def guide_view(self, request: HttpRequest, language: str) -> TemplateResponse:
        """The staff setup guide from docs/, shown as preformatted text inside the admin."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if language not in GUIDE_LANGUAGES:
            raise Http404
        text = (Path(django_settings.BASE_DIR) / "docs" / f"amocrm-setup.{language}.md").read_text(encoding="utf-8")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("amoCRM setup guide"),
            "opts": self.model._meta,
            "text": text,
            "guide_languages": GUIDE_LANGUAGES,
        }
        return TemplateResponse(request, "admin/amocrm/settings/guide.html", context)


# The lead list gains its delivery columns, filter and "Retry delivery" action.
from amocrm import delivery_admin  # noqa: E402, F401


@admin.register(RequestLog)
class RequestLogAdmin(admin.ModelAdmin):
    """Every request to amoCRM of the last 14 days, read-only: what went where, what came back, how long it took."""

    list_display = ("created_at", "method", "endpoint", "status", "duration_ms", "error_kind", "error")
    list_filter = ("error_kind", "status", "endpoint")
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RequestLog | None = None) -> bool:
        return False
