"""The settings page's "Subscribe to status changes" part: whether amoCRM has our webhook, and the two buttons."""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest
from django.urls import URLPattern
from django.utils.translation import gettext

from acoustic.singleton_admin import SingletonAdmin
from amocrm.api.errors import AmoError
from amocrm.models import Settings
from amocrm.sync import subscription


@dataclass(frozen=True)
class WebhookPanel:
    connected: bool
    subscribed: bool = False
    disabled: bool = False  # amoCRM switches a hook off after 100 bad answers in 2 hours
    error: str = ""  # amoCRM could not be asked


def panel(conn: Settings) -> WebhookPanel:
    """Whether amoCRM has our webhook, as the settings page shows it."""
    if not conn.is_connected:
        return WebhookPanel(connected=False)
    try:
        found = subscription.state(conn)
    except AmoError as error:
        return WebhookPanel(connected=True, error=error.message)
    return WebhookPanel(connected=True, subscribed=found.exists, disabled=found.disabled)


def button_urls(model_admin: SingletonAdmin) -> list[URLPattern]:
    """The Subscribe / Unsubscribe buttons' POST targets, guarded like the page itself."""
    return [
        model_admin.button("webhook/subscribe/", subscribe, "amocrm_settings_subscribe"),
        model_admin.button("webhook/unsubscribe/", unsubscribe, "amocrm_settings_unsubscribe"),
    ]


def subscribe(request: HttpRequest) -> None:
    try:
        subscription.subscribe(Settings.load())
    except AmoError as error:
        messages.error(request, error.message)
        return
    messages.success(request, gettext("Subscribed: amoCRM now tells the site when a deal's stage changes."))


def unsubscribe(request: HttpRequest) -> None:
    try:
        subscription.unsubscribe(Settings.load())
    except AmoError as error:
        messages.error(request, error.message)
        return
    message = gettext("Unsubscribed: amoCRM no longer sends stage changes; the 10-minute check still runs.")
    messages.success(request, message)
