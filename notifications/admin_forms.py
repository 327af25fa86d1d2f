"""The Telegram settings form: the bot token is never rendered, and only what the page edits is saved."""

import re

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from acoustic.singleton_admin import SingletonSettingsForm, secret_input
from notifications.models import TelegramSettings

EDITED_FIELDS = ("bot_token", "leads_enabled", "leads_chat_id", "alerts_enabled", "alerts_chat_id")
# https://core.telegram.org/bots/api#sendmessage: an integer chat id (groups are negative) or @channelusername.
_CHAT_ID = re.compile(r"-?\d+|@[A-Za-z][A-Za-z0-9_]{3,}")
_BOT_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")


class TelegramSettingsForm(SingletonSettingsForm):
    edited_fields = EDITED_FIELDS
    secret_fields = ("bot_token",)

    bot_token = secret_input(TelegramSettings, "bot_token")

    class Meta:
        model = TelegramSettings
        fields = EDITED_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.bot_token:
            self.fields["bot_token"].help_text = _("From @BotFather, e.g. 123456:ABC-DEF…")

    def clean_bot_token(self) -> str:
        typed = self.cleaned_data["bot_token"].strip()
        if typed and not _BOT_TOKEN.fullmatch(typed):
            raise forms.ValidationError(gettext("A bot token looks like 123456789:AAH… (from @BotFather)."))
        return typed

    def clean_leads_chat_id(self) -> str:
        return _chat_id(self.cleaned_data["leads_chat_id"])

    def clean_alerts_chat_id(self) -> str:
        return _chat_id(self.cleaned_data["alerts_chat_id"])


def _chat_id(value: str) -> str:
    value = value.strip()
    if value and not _CHAT_ID.fullmatch(value):
        raise forms.ValidationError(gettext("Enter a chat id such as -1001234567890, or @channel."))
    return value
