"""The Bot API methods the site calls, answered as Telegram answers them (https://core.telegram.org/bots/api)."""

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# https://core.telegram.org/bots/api#authorizing-your-bot: "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11".
TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
MAX_TEXT = 4096
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)


@dataclass
class Message:
    message_id: int
    chat_id: str
    text: str
    sent_at: float
    edits: list[tuple[float, str]] = field(default_factory=list)  # (when, the text before the edit)


@dataclass
class Reply:
    status: int
    body: dict[str, Any]


class BotApi:
    """The messages the bot sent, in memory; one lock, since the server answers from several threads."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    def call(self, token: str, method: str, params: dict[str, Any]) -> Reply:
        if not TOKEN.fullmatch(token):
            return _refuse(404, "Not Found")
        handler = {"getMe": self._get_me, "sendMessage": self._send, "editMessageText": self._edit}.get(method)
        if handler is None:
            return _refuse(404, "Not Found: method not found")
        with self._lock:
            return handler(token, params)

    def _get_me(self, token: str, params: dict[str, Any]) -> Reply:
        bot_id = int(token.split(":")[0])
        return _ok({"id": bot_id, "is_bot": True, "first_name": "Stand-in bot", "username": "standin_bot"})

    def _send(self, token: str, params: dict[str, Any]) -> Reply:
        chat_id, text = str(params.get("chat_id") or ""), str(params.get("text") or "")
        if problem := _check(chat_id, text):
            return problem
        message = Message(len(self.messages) + 1, chat_id, text, time.time())
        self.messages.append(message)
        return _ok(_shape(message))

    def _edit(self, token: str, params: dict[str, Any]) -> Reply:
        chat_id, text = str(params.get("chat_id") or ""), str(params.get("text") or "")
        if problem := _check(chat_id, text):
            return problem
        message = next((m for m in self.messages if m.message_id == params.get("message_id")), None)
        if message is None or message.chat_id != chat_id:
            return _refuse(400, "Bad Request: message to edit not found")
        if message.text == text:
            return _refuse(400, NOT_MODIFIED)
        message.edits.append((time.time(), message.text))
        message.text = text
        return _ok(_shape(message))


def _check(chat_id: str, text: str) -> Reply | None:
    if not chat_id:
        return _refuse(400, "Bad Request: chat_id is empty")
    if not text.strip():
        return _refuse(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        return _refuse(400, "Bad Request: message is too long")
    return None


def _shape(message: Message) -> dict[str, Any]:
    return {"message_id": message.message_id, "chat": {"id": message.chat_id}, "date": int(message.sent_at),
            "text": message.text}  # fmt: skip


def _ok(result: dict[str, Any]) -> Reply:
    return Reply(200, {"ok": True, "result": result})


def _refuse(code: int, description: str) -> Reply:
    return Reply(code, {"ok": False, "error_code": code, "description": description})
