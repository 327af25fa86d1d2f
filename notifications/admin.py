from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from acoustic.singleton_admin import SingletonAdmin
from notifications import sending, tasks
from notifications.admin_forms import TelegramSettingsForm
from notifications.models import Alert, MessageState, TelegramMessage, TelegramSettings


@admin.register(TelegramSettings)
class TelegramSettingsAdmin(SingletonAdmin):
    """One row, opened straight on its change page, with a "Send test message" button."""

    form = TelegramSettingsForm
    fieldsets = (
        (_("Bot"), {"fields": ("bot_token",)}),
        (_("New leads"), {"fields": ("leads_enabled", "leads_chat_id")}),
        (_("Alerts"), {"fields": ("alerts_enabled", "alerts_chat_id")}),
    )

    def button_urls(self) -> list[URLPattern]:
        return [self.button("test/", send_test_messages, "notifications_telegramsettings_test")]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        warn_if_not_set_up(request)
        context = {**(extra_context or {}), "conf": TelegramSettings.load(), "alerts": Alert.objects.all()}
        return super().change_view(request, object_id, form_url, context)


def warn_if_not_set_up(request: HttpRequest) -> None:
    """A banner while nothing can reach Telegram: no bot token, or no chat at all."""
    if request.method != "GET":
        return
    conf = TelegramSettings.load()
    if conf.bot_token and (conf.alerts_chat_id or conf.leads_chat_id):
        return
    url = reverse("admin:notifications_telegramsettings_changelist")
    text = _("Telegram is not set up, so no alert and no new lead reaches anybody there. Enter the bot token and "
             "the chats in the <a href=\"{url}\">Telegram settings</a>.")  # fmt: skip
    messages.warning(request, format_html(text, url=url))


def send_test_messages(request: HttpRequest) -> None:
    """The "Send test message" button: Telegram's answer for each chat, as a message."""
    for ok, text in sending.send_test_messages(TelegramSettings.load()):
        messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, text)


@admin.register(TelegramMessage)
class TelegramMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "lead", "state", "attempts", "last_attempt_at", "next_attempt_at", "last_error")
    list_filter = ("state", "kind")
    list_select_related = ("lead",)
    readonly_fields = [field.name for field in TelegramMessage._meta.fields if field.name != "claimed_until"]
    exclude = ("claimed_until",)
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Send again"), permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[TelegramMessage]) -> None:
        again = queryset.exclude(state__in=[MessageState.SENT, MessageState.SENDING])
        for message in again:
            message.retry_now()
            tasks.queue_message(message.id)
        text = ngettext("%(count)d message queued.", "%(count)d messages queued.", len(again))
        self.message_user(request, text % {"count": len(again)}, messages.SUCCESS)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("kind", "state", "first_seen", "last_sent", "resolved_at", "details")
    list_filter = ("active",)
    readonly_fields = ("kind", "active", "first_seen", "last_sent", "resolved_at", "details", "updated_at")

    def changelist_view(self, request: HttpRequest, extra_context=None):
        warn_if_not_set_up(request)
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("state"), ordering="active")
    def state(self, alert: Alert) -> str:
        # A quiet alert is the normal case: grey words, not Django's red cross.
        if alert.active:
            return format_html('<strong class="alert-active" style="color: var(--error-fg)">⚠ {}</strong>', _("Active"))
        return format_html('<span class="alert-quiet" style="color: var(--body-quiet-color)">{}</span>', _("Quiet"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False
