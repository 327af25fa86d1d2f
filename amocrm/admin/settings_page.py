"""The amoCRM settings page: one row, the connection and health panels, Connect / Test / Subscribe buttons."""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings as django_settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from acoustic.singleton_admin import SingletonAdmin
from amocrm.admin import webhook_panel
from amocrm.admin.connection_panel import panel
from amocrm.admin.field_mappings import CATALOG_ATTR, ExtraFieldMappingInline
from amocrm.admin.follow_up_form import FOLLOW_UP_FIELDS
from amocrm.admin.health_panel import health_panel
from amocrm.admin.settings_form import SettingsForm
from amocrm.api import budget, catalog, client, oauth
from amocrm.api.catalog import AccountCatalog
from amocrm.api.errors import AmoError
from amocrm.delivery import deal_fields
from amocrm.models import Settings

GUIDE_LANGUAGES = {"en": "English", "uz": "O'zbekcha", "ru": "Русский"}
# The dropdowns may lag amoCRM by at most this much (a stage staff just added should show up soon).
CATALOG_MAX_AGE_SECONDS = 60


@admin.register(Settings)
class SettingsAdmin(SingletonAdmin):
    form = SettingsForm
    inlines = (ExtraFieldMappingInline,)
    readonly_fields = ("marker_field_problem",)
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
        (
            _("Deal fields"),
            {"fields": ("source_field_id", "product_field_id", "marker_field_id", "marker_field_problem")},
        ),
        (_("Options"), {"fields": ("use_unsorted", "search_contacts_by_phone")}),
        (_("Follow-up task and working hours"), {"fields": FOLLOW_UP_FIELDS}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Settings | None = None) -> tuple:
        # The "remove" checkbox exists only while a long-lived token is stored; the marker field's problem only
        # while there is one.
        hidden = set()
        if obj is None or not obj.long_lived_token:
            hidden.add("clear_long_lived_token")
        if obj is None or not obj.marker_field_problem:
            hidden.add("marker_field_problem")
        return tuple(
            (title, {**options, "fields": tuple(name for name in options["fields"] if name not in hidden)})
            for title, options in self.fieldsets
        )

    def button_urls(self) -> list[URLPattern]:
        guide = path("guide/<str:language>/", self.admin_site.admin_view(self.guide_view), name="amocrm_settings_guide")
        return [
            self.button("test/", test_connection, "amocrm_settings_test"),
            *webhook_panel.button_urls(self),
            guide,
        ]

    def button(self, route: str, view: Callable[[HttpRequest], None], name: str) -> URLPattern:
        # Each button calls amoCRM while a person waits: about 10 s in all, then "amoCRM is busy, try again".
        return super().button(route, budget.interactive(view), name)

    def get_form(self, request: HttpRequest, obj: Settings | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        account = self._catalog(request, obj)
        setattr(request, CATALOG_ATTR, account)  # the mappings' table offers the same fields
        if account and request.method == "GET":
            for problem in deal_fields.mapping_problems(account):
                messages.warning(request, problem)
        return type(form.__name__, (form,), {"catalog": account}) if account else form

    def _catalog(self, request: HttpRequest, obj: Settings | None) -> AccountCatalog | None:
        """amoCRM's pipelines and fields once connected; None (number inputs) if not, or if it is unreachable."""
        if obj is None or not obj.is_connected:
            return None
        try:
            return catalog.load(obj, max_age=CATALOG_MAX_AGE_SECONDS)
        except AmoError as error:
            if request.method == "GET":
                warning = gettext("Could not load pipelines and fields from amoCRM (%(error)s). Type the ids instead.")
                messages.warning(request, warning % {"error": error.message})
            return None

    @method_decorator(budget.interactive)  # the catalogs, a pasted token's check and the webhook's state
    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        conn = Settings.load()
        context = {
            **(extra_context or {}),
            "panel": panel(conn),
            "health": health_panel(),
            "webhook": webhook_panel.panel(conn),
            "redirect_uri": oauth.redirect_uri(),
            "authorize_url": reverse("amocrm:authorize"),
            "guide_languages": GUIDE_LANGUAGES,
        }
        return super().change_view(request, object_id, form_url, context)

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


def test_connection(request: HttpRequest) -> None:
    """The "Test connection" button: one get_account call, the outcome as a message; it also lifts a 402/403 pause.

    A read cannot prove amoCRM takes deals again (reads stay open for 30 days after a 402), and amoCRM has no
    write-free proof of it. Pressing Test is staff saying "it is settled": sending resumes, and the next real
    lead decides (a 402 pauses it again, leaving every lead due).
    """
    conn = Settings.load()
    try:
        account = client.get_account(conn)
    except AmoError as error:
        messages.error(request, error.message)
        return
    messages.success(request, gettext("amoCRM answered: connected to %(name)s.") % {"name": account.name})
    if conn.sending_paused_reason:
        conn.resume_sending()
        messages.info(request, gettext("Sending resumes: the next lead shows whether amoCRM takes deals again."))
