"""The stand-in's page: every message the bot sent, newest first, formatted as Telegram shows its HTML mode."""

import html
import time
from html.parser import HTMLParser

from .bot_api import Message

# The tags of Telegram's HTML parse mode (https://core.telegram.org/bots/api#html-style); the rest is shown as text.
ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "blockquote", "tg-spoiler"}


class _TelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith(("http://", "https://", "tg://")):
            self.out.append(f'<a href="{html.escape(href)}" target="_blank" rel="noopener">')
        elif tag in ALLOWED:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" or tag in ALLOWED:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data).replace("\n", "<br>"))


def render_text(text: str) -> str:
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    return "".join(parser.out)


def render_page(messages: list[Message], api_url: str) -> str:
    rows = "".join(_message(message) for message in reversed(messages)) or "<p>No messages yet.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Telegram stand-in</title>
<meta http-equiv="refresh" content="10">
<style>
  body {{ font-family: sans-serif; background: #e6ebee; margin: 0 auto; max-width: 760px; padding: 16px; }}
  .message {{ background: #fff; border-radius: 10px; padding: 10px 14px; margin: 10px 0; line-height: 1.4; }}
  .meta {{ color: #708499; font-size: 12px; margin-bottom: 6px; }}
  .edited {{ color: #708499; font-size: 12px; }}
  a {{ color: #168acd; }}
</style></head><body>
<h1>Telegram stand-in</h1>
<p>The bot API answers at <code>{html.escape(api_url)}</code>: set <code>TELEGRAM_API_URL</code> to it (make run
does), and in the admin's Telegram settings enter any bot token shaped like <code>123456:standin-token</code> and
any chat ids (e.g. <code>-1001</code> for leads, <code>-1002</code> for alerts). Newest first; refreshes every 10 s.</p>
{rows}
</body></html>"""


def _message(message: Message) -> str:
    sent = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.sent_at))
    edited = f' <span class="edited">edited {len(message.edits)}×</span>' if message.edits else ""
    return (
        f'<div class="message" id="message-{message.message_id}"><div class="meta">chat {html.escape(message.chat_id)}'
        f" · #{message.message_id} · {sent}{edited}</div>{render_text(message.text)}</div>"
    )
