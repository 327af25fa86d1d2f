"""The local Telegram stand-in: the Bot API calls the site makes, answered as Telegram does, and a page of them."""

import threading
import urllib.request

import pytest

from notifications import transport
from notifications.standin.server import StandinServer
from notifications.tests.conftest import TOKEN
from notifications.transport import TelegramError


@pytest.fixture
def standin(settings):
    server = StandinServer(port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TELEGRAM_API_URL = server.url
    yield server
    server.shutdown()
    server.server_close()


def page(server: StandinServer) -> str:
    with urllib.request.urlopen(f"{server.url}/", timeout=5) as response:
        return response.read().decode()


def test_it_takes_a_message_and_answers_its_id(standin):
    message_id = transport.send_message(TOKEN, "-1001", "<b>New lead</b>")

    assert message_id == 1


def test_the_page_shows_the_message_formatted_as_telegram_would(standin):
    transport.send_message(TOKEN, "-1001", "<b>New lead</b>\nName: Dilnoza")

    assert "<b>New lead</b><br>Name: Dilnoza" in page(standin)


def test_the_page_shows_tags_telegram_does_not_know_as_text(standin):
    transport.send_message(TOKEN, "-1001", "<script>alert(1)</script>")

    assert "<script>" not in page(standin)


def test_it_edits_a_message(standin):
    message_id = transport.send_message(TOKEN, "-1001", "before")

    transport.edit_message_text(TOKEN, "-1001", message_id, "after the edit")

    assert standin.api.messages[0].text == "after the edit"


def test_an_edit_that_changes_nothing_counts_as_done(standin):
    message_id = transport.send_message(TOKEN, "-1001", "same")

    transport.edit_message_text(TOKEN, "-1001", message_id, "same")

    assert standin.api.messages[0].edits == []


def test_editing_a_message_it_never_sent_is_refused_for_good(standin):
    with pytest.raises(TelegramError) as refused:
        transport.edit_message_text(TOKEN, "-1001", 99, "text")

    assert refused.value.permanent


def test_a_malformed_token_is_not_found(standin):
    with pytest.raises(TelegramError) as refused:
        transport.send_message("not-a-token", "-1001", "text")

    assert refused.value.status == 404
