"""The staff's workplace in a real Chromium at 1280×800, in Uzbek and in Russian: the dashboard, the lead list, a
lead's page, the amoCRM and Telegram settings, the alerts, and routing: the rule list, a rule, a rotation pool and a
lead's "where this lead goes", with amoCRM's pipelines and users from the sandbox. Each page is screenshotted
(var/screenshots/), shows none of a list of English words and needs no scrolling sideways; the lead list's columns
and each routing page's key parts are in view."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from amocrm.api import oauth
from amocrm.models import DeliveryState, FollowUpChoice, RotationMember, RotationPool, RoutingRule, Settings, TextMatch
from amocrm.sandbox.catalog import DEACTIVATED_USER_ID, MANAGER_IDS
from amocrm.tests.dashboard_helpers import answer, deliver, make_lead
from amocrm.tests.deal_sync_helpers import DEALERS, DEALERS_FIRST, SALES, SALES_FIRST, SALES_NEGOTIATION, WON
from amocrm.tests.test_browser_connect import CHROMIUM, CHROMIUM_ARGS, pytestmark  # noqa: F401 - same conditions
from leads.models import Lead
from notifications.models import Alert, AlertKind

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
ENGLISH = [r"\bSelect\b", r"\bGo\b", r"\bBy ", r"(?i)\bhistory\b", r"\bShow counts\b", r"(?i)\brules?\b",
           r"(?i)\bpool\b", r"(?i)\bdeactivated\b", r"(?i)\bskipped\b", r"(?i)\bconditions\b", r"\bManager\b",
           r"(?i)\bnot routed\b", r"(?i)\bthe default\b", r"(?i)\bfollow-up\b"]  # fmt: skip
LEAD_COLUMNS = ("name", "phone_link", "source", "received", "delivery_state", "deal_link", "deal_stage", "answered_in")
PAGES = {
    "dashboard": "/admin/",
    "lead-list": "/admin/leads/lead/",
    "lead-page": "/admin/leads/lead/{lead}/change/",
    "amocrm-settings": "/admin/amocrm/settings/",
    "telegram-settings": "/admin/notifications/telegramsettings/",
    "alerts": "/admin/notifications/alert/",
    "routing-rules": "/admin/amocrm/routingrule/",
    "routing-rule": "/admin/amocrm/routingrule/{rule}/change/",
    "rotation-pool": "/admin/amocrm/rotationpool/{pool}/change/",
    "lead-route": "/admin/leads/lead/{new_lead}/change/",
}
# What each routing page is for, which must be in view without scrolling sideways (and, on pages seen as one screen,
# without scrolling down); the lead's route is further down its page, so it is screenshotted alone.
ONE_SCREEN = ("lead-list", "routing-rules", "rotation-pool")
KEY_PARTS = {
    "routing-rules": [
        "#result_list th.column-conditions",
        "#result_list th.column-destination",
        "#result_list th.column-responsible",
        "#result_list th.column-state",
    ],  # fmt: skip
    "routing-rule": ["#id_source", "#id_utm_campaign_match", "#id_status_id", "#id_responsible_user_id"],
    "rotation-pool": [".messagelist .warning", "#members-group tbody tr:nth-child(3) select"],
    "lead-route": [".field-amocrm_route dl"],
}
# Names staff would give, in the language the staff work in.
NAMES = {
    "uz": {
        "dealers": "Dilerlar",
        "spring": "Bahorgi aksiya (Google)",
        "aids": "Eshitish apparatlari katalogi",
        "yandex": "Yandex Direct",
        "pool": "Sotuv bo‘limi",
        "task": "Apparat tanlash uchun qo‘ng‘iroq qiling: {name}, {phone}",
        "message": "Eshitish apparati narxi qancha? Onamga kerak.",
    },  # fmt: skip
    "ru": {
        "dealers": "Дилеры",
        "spring": "Весенняя акция (Google)",
        "aids": "Каталог слуховых аппаратов",
        "yandex": "Яндекс Директ",
        "pool": "Отдел продаж",
        "task": "Позвонить, подобрать аппарат: {name}, {phone}",
        "message": "Сколько стоит слуховой аппарат? Нужен для мамы.",
    },  # fmt: skip
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


@pytest.fixture
def connected(amocrm_sandbox, settings, db) -> Settings:
    """Connected to the sandbox, whose pipelines and users (three managers, one deactivated) fill the dropdowns."""
    settings.AMOCRM_SANDBOX_URL = amocrm_sandbox.url
    amocrm_sandbox.config.redirect_uri = oauth.redirect_uri()
    conn = Settings.load()
    conn.client_id, conn.client_secret = amocrm_sandbox.client_id, amocrm_sandbox.client_secret
    conn.domain = amocrm_sandbox.host
    conn.save()
    redirect = amocrm_sandbox.authorize(state="s")
    pair = oauth.exchange_code(conn, redirect["code"], redirect["referer"])
    conn.store_tokens(pair.access_token, pair.refresh_token, pair.expires_in)
    return conn


@pytest.fixture
def routing(connected, language) -> dict:
    """Four rules (dealers to one manager, a Google campaign to a pool, a catalog page with its own task, one off),
    a pool of three managers one of whom left, and a new lead the campaign rule would give to the pool."""
    names = NAMES[language]
    pool = RotationPool.objects.create(name=names["pool"])
    for position, (user_id, weight) in enumerate([(MANAGER_IDS[0], 2), (MANAGER_IDS[2], 1), (DEACTIVATED_USER_ID, 1)]):
        RotationMember.objects.create(pool=pool, position=position, user_id=user_id, weight=weight)
    RoutingRule.objects.create(position=1, name=names["dealers"], source="dealer_form", pipeline_id=DEALERS,
                               status_id=DEALERS_FIRST, tags="diler", responsible_user_id=MANAGER_IDS[1])  # fmt: skip
    RoutingRule.objects.create(position=2, name=names["spring"], utm_source="google", utm_campaign="spring",
                               utm_campaign_match=TextMatch.CONTAINS, pipeline_id=SALES, status_id=SALES_FIRST,
                               tags="aksiya, google", rotation_pool=pool)  # fmt: skip
    rule = RoutingRule.objects.create(
        position=3, name=names["aids"], source="contact_form", page_url_prefix="acoustic.uz/catalog/hearing-aids",
        pipeline_id=SALES, status_id=SALES_NEGOTIATION, responsible_user_id=MANAGER_IDS[2],
        follow_up=FollowUpChoice.OWN, follow_up_task_type_id=1, follow_up_text=names["task"], follow_up_minutes=30,
    )  # fmt: skip
    RoutingRule.objects.create(position=4, name=names["yandex"], active=False, utm_source="yandex", rotation_pool=pool)
    lead = Lead.objects.create(
        name="Shahnoza Rasulova", phone="+998935550142", phone_raw="93 555 01 42", source="contact_form",
        message=names["message"], page_url="https://acoustic.uz/aksiya/bahor", utm_source="google", utm_medium="cpc",
        utm_campaign="spring_sale_2026",
    )  # fmt: skip
    return {"rule": rule.pk, "pool": pool.pk, "new_lead": lead.pk}


def english_words(text: str) -> list[str]:
    return [pattern for pattern in ENGLISH if re.search(pattern, text)]


def walk(base_url: str, language: str, ids: dict) -> dict:
    """Every page in one language: the English found on each, the lead list's columns past the right edge, and the
    key parts of the routing pages out of view."""
    found = {"english": {}, "cut_off": [], "too_wide": {}, "out_of_view": {}}
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
            page.goto(base_url + path.format(**ids))
            _screenshot(page, name, SCREENSHOTS / f"{language}-{name}.png")
            found["english"][name] = english_words(page.inner_text("body"))
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > VIEWPORT["width"]:
                found["too_wide"][name] = width
            if name == "lead-list":
                found["cut_off"] = _cut_off_columns(page)
            if out := _out_of_view(page, KEY_PARTS.get(name, []), below_allowed=name not in ONE_SCREEN):
                found["out_of_view"][name] = out
        browser.close()
    return found


def _screenshot(page, name: str, path: Path) -> None:
    """Lists as staff first see them (one screen), the lead's route alone (for the guides), other pages whole."""
    if name == "lead-route":
        page.locator("fieldset:has(.field-amocrm_route)").screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=name not in ONE_SCREEN)


def _cut_off_columns(page) -> list[str]:
    cut = []
    for column in LEAD_COLUMNS:
        box = page.locator(f"#result_list th.column-{column}").bounding_box()
        if box is None or box["x"] + box["width"] > VIEWPORT["width"]:
            cut.append(column)
    return cut


def _out_of_view(page, selectors: list[str], below_allowed: bool) -> list[str]:
    """The selectors missing, or reaching past the right edge (or the bottom, on a page seen as one screen)."""
    out = []
    for selector in selectors:
        box = page.locator(selector).first.bounding_box() if page.locator(selector).count() else None
        if box is None or box["x"] + box["width"] > VIEWPORT["width"]:
            out.append(selector)
        elif not below_allowed and box["y"] + box["height"] > VIEWPORT["height"]:
            out.append(selector)
    return out


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["uz", "ru"])
def test_the_workplace_speaks_the_staffs_language_and_fits_a_laptop(live_server, workplace, routing, language):
    found = walk(live_server.url, language, {"lead": workplace, **routing})

    assert found["english"] == {name: [] for name in PAGES}
    assert found["cut_off"] == []
    assert found["too_wide"] == {}
    assert found["out_of_view"] == {}
