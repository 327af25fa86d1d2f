import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from amocrm.admin.settings_form import SettingsForm
from amocrm.admin.settings_page import GUIDE_LANGUAGES
from amocrm.models import ConnectionState, Settings
from amocrm.tests.settings_page_helpers import URL
from amocrm.tests.settings_page_helpers import form_data as _form_data
from amocrm.tests.settings_page_helpers import messages_of as _messages

pytestmark = pytest.mark.django_db

SECRET = "s3cret-integration-key"


@pytest.fixture
def keyed(db) -> Settings:
    conn = Settings.load()
    conn.client_id, conn.client_secret = "5f0c9a52-3f4e-4d6b-9c1e-8a7b6c5d4e3f", SECRET
    conn.save()
    return conn


def test_it_opens_the_one_row_from_the_list(admin_client, db):
    response = admin_client.get("/admin/amocrm/settings/")

    assert response["Location"] == URL
    assert Settings.objects.count() == 1


def test_it_offers_no_add_and_no_delete(admin_client, keyed):
    assert admin_client.get("/admin/amocrm/settings/add/").status_code == 403
    assert admin_client.get("/admin/amocrm/settings/1/delete/").status_code == 403


def test_it_sends_anonymous_visitors_to_the_login(client, keyed):
    response = client.get(URL)

    assert response["Location"].startswith("/admin/login/")


def test_it_never_renders_secrets_or_tokens(admin_client, connected):
    page = admin_client.get(URL).content.decode()

    for secret in (connected.client_secret, connected.access_token, connected.refresh_token):
        assert secret not in page
    assert "Set. Leave blank to keep it." in page


def test_it_never_renders_a_long_lived_token(admin_client, long_lived):
    page = admin_client.get(URL).content.decode()

    assert long_lived.long_lived_token not in page
    assert "Remove the long-lived token" in page


def test_it_stores_secrets_encrypted(keyed):
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM amocrm_settings WHERE id = 1")
        raw = cursor.fetchone()[0]

    raw = bytes(raw).decode() if isinstance(raw, bytes | memoryview) else raw
    assert SECRET not in raw
    assert Settings.load().client_secret == SECRET


def test_it_keeps_the_stored_secret_when_the_field_is_left_blank(admin_client, keyed):
    response = admin_client.post(URL, _form_data(keyed, client_secret="", tags="sayt"))

    assert response.status_code == 302
    conn = Settings.load()
    assert (conn.client_secret, conn.tags) == (SECRET, "sayt")


def test_it_replaces_the_secret_when_a_new_one_is_typed(admin_client, keyed):
    admin_client.post(URL, _form_data(keyed, client_secret="new-secret"))

    assert Settings.load().client_secret == "new-secret"


def test_it_leaves_tokens_refreshed_while_the_page_was_open_alone(admin_client, connected, monkeypatch):
    clean = SettingsForm.clean

    def refresh_meanwhile(form):
        # Another process refreshes the pair after the admin read the row and before it saves.
        Settings.objects.filter(pk=1).update(access_token="refreshed-access", refresh_token="refreshed-refresh")
        return clean(form)

    monkeypatch.setattr(SettingsForm, "clean", refresh_meanwhile)
    admin_client.post(URL, _form_data(connected, tags="sayt"))

    conn = Settings.load()
    assert (conn.access_token, conn.refresh_token, conn.tags) == ("refreshed-access", "refreshed-refresh", "sayt")


def test_it_shows_the_redirect_uri_and_a_connect_button(admin_client, keyed, settings):
    settings.SITE_URL = "https://acoustic.uz"

    page = admin_client.get(URL).content.decode()

    assert 'value="https://acoustic.uz/api/amocrm/callback"' in page
    assert 'href="/api/amocrm/authorize"' in page
    assert "Connect to amoCRM" in page


def test_it_offers_reconnect_and_the_account_once_connected(admin_client, sandbox_conn):
    sandbox_conn.mark_connected(30_000_001, "sandbox (sandbox)")

    page = admin_client.get(URL).content.decode()

    assert "Reconnect" in page
    assert "sandbox (sandbox)" in page


def test_it_warns_two_weeks_before_the_refresh_token_ends(admin_client, connected):
    Settings.objects.filter(pk=1).update(refresh_token_expires_at=timezone.now() + timedelta(days=10))

    page = admin_client.get(URL).content.decode()

    assert "The refresh token ends on" in page


def test_it_offers_stages_grouped_by_pipeline_once_connected(admin_client, sandbox_conn):
    page = admin_client.get(URL).content.decode()

    assert '<optgroup label="Sales">' in page and '<optgroup label="Dealers">' in page
    assert '<option value="77000022">New request</option>' in page
    assert 'value="142"' not in page  # won/lost are no place for a new deal


def test_it_saves_the_pipeline_of_the_chosen_stage(admin_client, sandbox_conn):
    admin_client.post(URL, _form_data(sandbox_conn, status_id=77_000_022))

    conn = Settings.load()
    assert (conn.pipeline_id, conn.status_id) == (7_700_002, 77_000_022)


def test_it_offers_amocrm_deal_fields_by_name(admin_client, sandbox_conn):
    response = admin_client.get(URL)

    choices = dict(response.context["adminform"].form.fields["source_field_id"].choices)
    assert len(choices) > 1
    assert all(isinstance(label, str) and label for label in choices.values())


def test_it_caches_amocrms_lists_between_renders(admin_client, sandbox_conn, sandbox):
    admin_client.get(URL)
    admin_client.get(URL)

    assert len(sandbox.received("/api/v4/leads/pipelines")) == 1


def test_it_falls_back_to_number_inputs_when_amocrm_is_unreachable(admin_client, sandbox_conn, settings):
    settings.AMOCRM_SANDBOX_URL = "http://127.0.0.1:9"

    response = admin_client.get(URL)

    assert 'type="number" name="status_id"' in response.content.decode()
    assert any("Type the ids instead" in message for message in _messages(response))


def test_it_tests_the_connection_with_one_call(admin_client, sandbox_conn):
    response = admin_client.post("/admin/amocrm/settings/test/", follow=True)

    assert "connected to sandbox (sandbox)" in _messages(response)[0]


def test_the_test_button_lifts_a_402_pause_once_amocrm_answers(admin_client, sandbox_conn):
    sandbox_conn.pause_sending("The amoCRM subscription has ended. amoCRM says: Payment required")

    admin_client.post("/admin/amocrm/settings/test/")

    assert Settings.load().sending_paused_reason == ""


def test_the_test_button_says_sending_resumes(admin_client, sandbox_conn):
    sandbox_conn.pause_sending("Payment required")

    response = admin_client.post("/admin/amocrm/settings/test/", follow=True)

    assert "Sending resumes" in _messages(response)[1]


def test_it_shows_why_the_test_failed(admin_client, keyed):
    response = admin_client.post("/admin/amocrm/settings/test/", follow=True)

    assert "not connected" in _messages(response)[0]


def test_it_connects_with_a_pasted_long_lived_token(admin_client, keyed, sandbox):
    sandbox.config.token_lifetime = 365 * 86400
    token = sandbox.issue_tokens()["access_token"]

    admin_client.post(URL, _form_data(keyed, domain=sandbox.host, long_lived_token=token))

    conn = Settings.load()
    assert (conn.long_lived_token, conn.state, conn.account_name) == (
        token,
        ConnectionState.CONNECTED,
        "sandbox (sandbox)",
    )
    assert conn.client_secret == SECRET


def test_it_shows_a_long_lived_tokens_expiry(admin_client, long_lived):
    response = admin_client.get(URL)

    assert response.context["panel"].access_token_expires_at.year >= timezone.now().year + 1


def test_it_refuses_a_long_lived_token_amocrm_rejects(admin_client, keyed, sandbox):
    response = admin_client.post(URL, _form_data(keyed, domain=sandbox.host, long_lived_token="not-a-token"))

    assert response.status_code == 200
    assert "did not accept this token" in response.content.decode()
    assert Settings.load().long_lived_token == ""


def test_it_removes_the_long_lived_token_on_request(admin_client, long_lived):
    admin_client.post(URL, _form_data(long_lived, clear_long_lived_token="on"))

    conn = Settings.load()
    assert (conn.long_lived_token, conn.state) == ("", ConnectionState.NOT_CONNECTED)


def test_it_strips_a_pasted_account_url_to_its_host(admin_client, keyed):
    admin_client.post(URL, _form_data(keyed, domain="https://Acoustic.amocrm.ru/leads/"))

    assert Settings.load().domain == "acoustic.amocrm.ru"


def test_it_refuses_a_domain_outside_amocrm(admin_client, keyed):
    response = admin_client.post(URL, _form_data(keyed, domain="evil.example.com"))

    assert response.status_code == 200
    assert Settings.load().domain == ""


@pytest.mark.parametrize("language", ["en", "uz", "ru"])
def test_it_shows_the_setup_guide(admin_client, db, language):
    response = admin_client.get(f"/admin/amocrm/settings/guide/{language}/")

    assert response.status_code == 200
    assert "/api/amocrm/callback" in response.content.decode()


def test_the_russian_admin_links_to_the_russian_guide(admin_client, db):
    page = admin_client.get(URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert '<a href="/admin/amocrm/settings/guide/ru/">Русский</a>' in page


def test_the_russian_guide_is_the_russian_text(admin_client, db):
    response = admin_client.get("/admin/amocrm/settings/guide/ru/", HTTP_ACCEPT_LANGUAGE="ru")

    assert "# Подключение сайта к amoCRM" in response.content.decode()


@pytest.mark.parametrize("language", GUIDE_LANGUAGES)
def test_every_screenshot_a_guide_shows_exists(language):
    guide = Path(settings.BASE_DIR) / "docs" / f"amocrm-setup.{language}.md"
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", guide.read_text(encoding="utf-8"))

    assert [image for image in images if not (guide.parent / image).is_file()] == []


def test_it_has_no_guide_in_other_languages(admin_client, db):
    assert admin_client.get("/admin/amocrm/settings/guide/xx/").status_code == 404


def test_the_page_shows_no_marker_field_problem_while_there_is_none(admin_client):
    html = admin_client.get(URL).content.decode()

    assert "marker_field_problem" not in html


def test_the_page_shows_why_the_marker_field_could_not_be_made(admin_client):
    Settings.objects.update_or_create(pk=1, defaults={"marker_field_problem": "amoCRM refused: no rights"})

    html = admin_client.get(URL).content.decode()

    assert "amoCRM refused: no rights" in html
