"""The site script in a real Chromium, on a shop's pages (another origin, as in production) that include it."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import override_settings

from leads.models import Lead

try:
    from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
except ImportError:  # the dev requirements bring it; without it the test says why it did not run
    sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
# Playwright's own browser download does not work here; Debian's chromium does, with these flags.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
UZ_PHONE_ERROR = "To‘g‘ri telefon raqamini kiriting, masalan +998 90 123 45 67."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(sync_playwright is None, reason="the playwright package is not installed"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def chromium(django_db_setup) -> Iterator["Browser"]:
    # Playwright's event loop runs in this thread while the browser is open, and the tests read the database
    # between browser steps (and flush it after each): Django allows that only when told.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def shop(chromium, live_server) -> Iterator["Shop"]:
    site = ShopServer()
    with override_settings(CORS_ALLOWED_ORIGINS=[site.url], LEAD_RATE_LIMIT=""):
        context = chromium.new_context(locale="uz-UZ")
        yield Shop(context.new_page(), site, live_server.url)
        context.close()
    site.stop()


class ShopServer(ThreadingHTTPServer):
    """The shop's own web server: another origin than the API's (127.0.0.1 here, localhost there)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        super().__init__(("127.0.0.1", 0), ShopPage)
        self.url = f"http://127.0.0.1:{self.server_port}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class ShopPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        body = self.server.pages.get(self.path.split("?")[0], "not here").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Shop:
    """A shop's site: pages with any body, each including the script the way the README says."""

    def __init__(self, page: "Page", site: ShopServer, api_url: str) -> None:
        self.page, self.site, self.api_url = page, site, api_url
        page.set_default_timeout(15_000)

    def open(self, path: str, body: str = "<p>Welcome</p>", lang: str = "uz") -> None:
        script = f'<script src="{self.api_url}/js/acoustic-leads.js" defer></script>'  # as the README shows
        head = f'<html lang="{lang}"><head><meta charset="utf-8">{script}</head>'
        self.site.pages[path.split("?")[0]] = f"<!doctype html>{head}<body>{body}</body></html>"
        self.page.goto(f"{self.site.url}{path}")
        self.page.wait_for_function("window.AcousticLeads !== undefined")

    def fill_form(self, name: str = "Dilnoza", phone: str = "90 123 45 67") -> None:
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=phone]", phone)

    def wait_for(self, condition: Callable[[], bool], seconds: float = 20) -> bool:
        """Polls the condition while the browser runs (Playwright serves route handlers only within its own calls)."""
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                return False
            self.page.wait_for_timeout(100)
        return True

    def outbox(self) -> list:
        return json.loads(self.page.evaluate("localStorage.getItem('acoustic-leads:outbox') || '[]'"))


FORM = """<form id="lead" data-acoustic-lead action="/thanks" method="post">
  <label>Ism <input name="name" id="name"></label>
  <label>Telefon <input name="phone" id="phone"></label>
  <input type="hidden" name="branch" value="Chilonzor">
  <button id="send">Yuborish</button>
</form>"""


LANDING = "/landing?utm_source=google&utm_medium=cpc&utm_campaign=autumn&gclid=Cj0KCQ"


def test_it_carries_the_landing_pages_attribution_to_a_form_on_another_page(shop):
    shop.open(LANDING)
    shop.open("/about")
    shop.open("/contacts", FORM)
    shop.fill_form()

    shop.page.click("#send")

    expect(shop.page.locator(".acoustic-lead-thanks")).to_be_visible()
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("google", "cpc", "autumn")
    assert lead.gclid == "Cj0KCQ"
    assert (
        lead.landing_page
        == f"{shop.site.url}/landing?utm_source=google&utm_medium=cpc&utm_campaign=autumn&gclid=Cj0KCQ"
    )
    assert lead.first_utm_source == "google"
    assert lead.page_url == f"{shop.site.url}/contacts"
    assert lead.extra == {"branch": "Chilonzor"}


def test_it_keeps_a_lead_sent_offline_and_delivers_it_once_when_back_online(shop):
    shop.open("/contacts", FORM)
    shop.fill_form()
    shop.page.context.set_offline(True)

    shop.page.click("#send")

    expect(shop.page.locator(".acoustic-lead-thanks")).to_be_visible()
    assert len(shop.outbox()) == 1
    assert not Lead.objects.exists()
    shop.page.context.set_offline(False)
    assert shop.wait_for(lambda: Lead.objects.exists())
    assert shop.wait_for(lambda: shop.outbox() == [])
    shop.open("/next-page")  # a new page load sends whatever is still waiting: nothing
    shop.page.wait_for_timeout(1500)
    assert Lead.objects.count() == 1


def test_it_tries_again_after_three_503s_and_stores_one_lead(shop):
    answered = []

    def unavailable_three_times(route: "Route") -> None:
        if route.request.method != "POST" or len(answered) >= 3:
            return route.fallback()
        answered.append(503)
        route.fulfill(status=503, headers={"Access-Control-Allow-Origin": shop.site.url}, json={"error": "restarting"})

    shop.page.route(f"{shop.api_url}/api/leads", unavailable_three_times)
    shop.open("/contacts", FORM)
    shop.fill_form()

    shop.page.click("#send")

    expect(shop.page.locator(".acoustic-lead-thanks")).to_be_visible()
    assert shop.wait_for(lambda: Lead.objects.exists(), seconds=30)
    assert answered == [503, 503, 503]
    assert shop.wait_for(lambda: shop.outbox() == [])
    assert Lead.objects.count() == 1


def test_a_double_tap_makes_one_lead(shop):
    posts = []
    shop.page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    shop.open("/contacts", FORM)
    shop.fill_form()

    shop.page.dblclick("#send")

    expect(shop.page.locator(".acoustic-lead-thanks")).to_be_visible()
    assert shop.wait_for(lambda: shop.outbox() == [])
    assert len(posts) == 1
    assert Lead.objects.count() == 1


def test_it_shows_validation_errors_beside_their_fields_in_the_pages_language(shop):
    shop.open("/contacts", FORM, lang="uz")
    shop.fill_form(phone="12")

    shop.page.click("#send")

    error = shop.page.locator("#phone + .acoustic-lead-error")
    expect(error).to_have_text(UZ_PHONE_ERROR)
    expect(shop.page.locator("#phone")).to_have_attribute("aria-invalid", "true")
    assert shop.outbox() == []
    assert not Lead.objects.exists()


def test_it_speaks_russian_on_a_russian_page(shop):
    shop.open("/contacts", FORM, lang="ru")
    shop.fill_form(phone="12")

    shop.page.click("#send")

    expect(shop.page.locator("#phone + .acoustic-lead-error")).to_have_text(
        "Введите правильный номер телефона, например +998 90 123 45 67."
    )


def test_without_storage_it_sends_once_and_keeps_nothing(shop):
    shop.page.add_init_script(
        "Object.defineProperty(window, 'localStorage', {get() { throw new DOMException('denied', 'SecurityError'); }})"
    )
    shop.open("/landing?utm_source=instagram", FORM)
    shop.fill_form()

    shop.page.click("#send")

    expect(shop.page.locator(".acoustic-lead-thanks")).to_be_visible()
    assert shop.wait_for(lambda: Lead.objects.exists())
    assert Lead.objects.get().utm_source == "instagram"  # this page's own attribution still goes along


def test_it_adds_nothing_to_the_page_but_its_namespace(shop):
    shop.site.pages["/plain"] = "<!doctype html><html><body><p>No script</p></body></html>"
    shop.page.goto(f"{shop.site.url}/plain")
    without = set(shop.page.evaluate("Object.keys(window)"))

    shop.open("/contacts", FORM)

    assert set(shop.page.evaluate("Object.keys(window)")) - without == {"AcousticLeads"}


def test_it_leaves_a_submission_the_sites_own_handler_cancelled(shop):
    posts = []
    shop.page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    shop.open("/contacts", FORM + "<script>lead.addEventListener('submit', (e) => e.preventDefault())</script>")
    shop.fill_form()

    shop.page.click("#send")

    shop.page.wait_for_timeout(1000)
    assert posts == []
    expect(shop.page.locator("#lead")).to_be_visible()


def test_the_form_page_sends_through_the_api_and_then_shows_only_the_thanks(shop):
    shop.page.goto(f"{shop.api_url}/?utm_source=telegram")
    shop.fill_form()

    shop.page.click("form[data-acoustic-lead] button")

    expect(shop.page.locator("#lead-thanks")).to_be_visible()
    expect(shop.page.locator("form[data-acoustic-lead]")).to_be_hidden()
    assert "sent=1" not in shop.page.url  # no post/redirect: the script sent it
    assert shop.wait_for(lambda: Lead.objects.exists())
    assert Lead.objects.get().utm_source == "telegram"
