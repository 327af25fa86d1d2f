"""The settings page's "Subscribe to status changes" part, and the read-only list of received webhook events."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from amocrm import webhook_subscription
from amocrm.client import AmoError
from amocrm.models import Settings
from amocrm.webhook_events import WebhookEvent


@dataclass(frozen=True)
class WebhookPanel:
    connected: bool
    subscribed: bool = False
    disabled: bool = False  # §7: amoCRM switches a hook off after 100 bad answers in 2 hours
    error: str = ""  # amoCRM could not be asked


def panel(conn: Settings) -> WebhookPanel:
    """Whether amoCRM has our webhook, as the settings page shows it."""
    if not conn.is_connected:
        return WebhookPanel(connected=False)
    try:
        found = webhook_subscription.state(conn)
    except AmoError as error:
        return WebhookPanel(connected=True, error=error.message)
    return WebhookPanel(connected=True, subscribed=found.exists, disabled=found.disabled)


def admin_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    """The Subscribe / Unsubscribe buttons' POST targets, guarded like the page itself."""
    wrap = model_admin.admin_site.admin_view
    subscribe = _action(model_admin, webhook_subscription.subscribe, _subscribed_message)
    unsubscribe = _action(model_admin, webhook_subscription.unsubscribe, _unsubscribed_message)
    return [
        path("webhook/subscribe/", wrap(require_POST(subscribe)), name="amocrm_settings_subscribe"),
        path("webhook/unsubscribe/", wrap(require_POST(unsubscribe)), name="amocrm_settings_unsubscribe"),
    ]


def _action(model_admin: admin.ModelAdmin, call: Callable[[Settings], object], message: Callable[[], str]) -> Callable:
    def view(request: HttpRequest) -> HttpResponse:
        if not model_admin.has_change_permission(request):
            raise PermissionDenied
        try:
            call(Settings.load())
        except AmoError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, message())
        return redirect("admin:amocrm_settings_change", 1)

    return view


def _subscribed_message() -> str:
    return gettext("Subscribed: amoCRM now tells the site when a deal's stage changes.")


def _unsubscribed_message() -> str:
    return gettext("Unsubscribed: amoCRM no longer sends stage changes; the 10-minute check still runs.")


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """What amoCRM's webhooks said about the site's deals in the last 30 days, read-only."""

    list_display = ("received_at", "action", "lead_id", "applied_at")
    list_filter = ("action",)
    search_fields = ("=lead_id",)
    readonly_fields = ("key", "action", "lead_id", "payload", "received_at", "applied_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookEvent | None = None) -> bool:
        return False
