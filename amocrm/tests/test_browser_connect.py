"""The connect flow as staff see it: a real Chromium, the live site and the sandbox's consent page."""

from pathlib import Path

import pytest
from django.test import override_settings

from amocrm.models import ConnectionState, Settings

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the dev requirements bring it; without it the test says why it did not run
    sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
# Playwright's own browser download does not work here; Debian's chromium does, with these flags.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="the playwright package is not installed"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


@pytest.fixture
def sandbox_for_live_site(amocrm_sandbox, live_server):
    """The sandbox, sending its consent redirect to the live site, which sends everything to the sandbox."""
    amocrm_sandbox.config.redirect_uri = f"{live_server.url}/api/amocrm/callback"
    with override_settings(SITE_URL=live_server.url, AMOCRM_SANDBOX_URL=amocrm_sandbox.url):
        conn = Settings.load()
        conn.client_id, conn.client_secret = amocrm_sandbox.client_id, amocrm_sandbox.client_secret
        conn.save()
        yield amocrm_sandbox


def _connect_in_chromium(base_url: str) -> str:
    """Log in, open the amoCRM settings, press Connect, allow on the consent page; the account shown after."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="en-US")
        page.set_default_timeout(15_000)
        page.goto(f"{base_url}/admin/login/?next=/admin/amocrm/settings/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "password")
        page.click("input[type=submit]")
        page.click("#amocrm-connect")
        page.click("#allow")  # the sandbox's consent page
        expect(page.locator("#amocrm-state")).to_contain_text("Connected")
        account = page.locator("#amocrm-account").inner_text()
        messages = page.locator(".messagelist").inner_text()
        browser.close()
    assert account in messages
    return account


@pytest.mark.django_db(transaction=True)
def test_it_connects_from_the_admin_through_the_consent_page(admin_user, live_server, sandbox_for_live_site):
    account = _connect_in_chromium(live_server.url)

    conn = Settings.load()  # read after the browser is gone: Playwright's event loop forbids sync ORM calls
    assert account == conn.account_name == "sandbox (sandbox)"
    assert conn.state == ConnectionState.CONNECTED
    assert conn.domain == sandbox_for_live_site.host
    assert conn.refresh_token
