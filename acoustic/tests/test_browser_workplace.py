"""The staff's workplace in a real Chromium at 1280×800, in Uzbek and in Russian: the dashboard, the lead list, a
lead's page, the amoCRM and Telegram settings and the alerts. Each page is screenshotted (var/screenshots/), shows
none of a list of English words and needs no scrolling sideways, and the lead list's columns are all in view."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from amocrm.models import DeliveryState
from amocrm.tests.dashboard_helpers import answer, deliver, make_lead
from amocrm.tests.deal_sync_helpers import WON
from amocrm.tests.test_browser_connect import CHROMIUM, CHROMIUM_ARGS, pytestmark  # noqa: F401 - same conditions
from notifications.models import Alert, AlertKind

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
ENGLISH = [r"\bSelect\b", r"\bGo\b", r"\bBy ", r"(?i)\bhistory\b", r"\bShow counts\b"]
LEAD_COLUMNS = ("name", "phone_link", "source", "received", "delivery_state", "deal_link", "deal_stage", "answered_in")
PAGES = {
    "dashboard": "/admin/",
    "lead-list": "/admin/leads/lead/",
    "lead-page": "/admin/leads/lead/{lead}/change/",
    "amocrm-settings": "/admin/amocrm/settings/",
    "telegram-settings": "/admin/notifications/telegramsettings/",
    "alerts": "/admin/notifications/alert/",
}


@pytest.fixture
def workplace(admin_user) -> int:
    """A month of leads from three sources: won, in progress, unanswered, one needing attention; two alerts."""
    now = timezone.now()
    for n in range(24):
        lead = make_lead(now - timedelta(hours=7 * n + 1), ("google_ads", "instagram", "contact_form")[n % 3],
                         ("spring_sale", "hearing_test", "")[n % 3], name=f"Dilnoza Karimova {n}")  # fmt: skip
        if n % 6 == 5:
            deliver(lead, 0, DeliveryState.NEEDS_ATTENTION)
            continue
        delivery = deliver(lead, 9000 + n)
        if n % 3:
            answer(delivery, timedelta(minutes=12 + n * 3), WON if n % 4 == 0 else 77_000_013)
    Alert.objects.create(kind=AlertKind.UNDELIVERED, active=False)
    Alert.objects.create(kind=AlertKind.NEEDS_ATTENTION, active=True, first_seen=now, details="4 leads")
    return lead.pk


def english_words(text: str) -> list[str]:
    return [pattern for pattern in ENGLISH if re.search(pattern, text)]


def walk(base_url: str, language: str, lead_id: int) -> dict:
    """Every page in one language: the English found on each, and the lead list's columns past the right edge."""
    found = {"english": {}, "cut_off": [], "too_wide": {}}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT, locale=language)
        page.set_default_timeout(15_000)
        page.goto(f"{base_url}/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "password")
        page.click("input[type=submit]")
        for name, path in PAGES.items():
            page.goto(base_url + path.format(lead=lead_id))
            page.screenshot(path=SCREENSHOTS / f"{language}-{name}.png", full_page=name != "lead-list")
            found["english"][name] = english_words(page.inner_text("body"))
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > VIEWPORT["width"]:
                found["too_wide"][name] = width
            if name == "lead-list":
                found["cut_off"] = _cut_off_columns(page)
        browser.close()
    return found


def _cut_off_columns(page) -> list[str]:
    cut = []
    for column in LEAD_COLUMNS:
        box = page.locator(f"#result_list th.column-{column}").bounding_box()
        if box is None or box["x"] + box["width"] > VIEWPORT["width"]:
            cut.append(column)
    return cut


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["uz", "ru"])
def test_the_workplace_speaks_the_staffs_language_and_fits_a_laptop(live_server, workplace, language):
    found = walk(live_server.url, language, workplace)

    assert found["english"] == {name: [] for name in PAGES}
    assert found["cut_off"] == []
    assert found["too_wide"] == {}
