"""The settings page's follow-up section: days as checkboxes, the task type from amoCRM, the template and hours
checked before anything is saved."""

from datetime import time

import pytest

from amocrm.models import Settings
from amocrm.tests.settings_page_helpers import URL, form_data

pytestmark = pytest.mark.django_db


def test_it_saves_the_working_days_ticked(admin_client):
    conn = Settings.load()

    admin_client.post(URL, form_data(conn, working_days=["0", "2", "4"]))

    assert Settings.load().working_days == "0,2,4"


def test_it_saves_the_opening_hours(admin_client):
    conn = Settings.load()

    admin_client.post(URL, form_data(conn, opens_at="08:30", closes_at="20:00"))

    assert (Settings.load().opens_at, Settings.load().closes_at) == (time(8, 30), time(20))


def test_it_refuses_a_shop_that_closes_before_it_opens(admin_client):
    conn = Settings.load()

    response = admin_client.post(URL, form_data(conn, opens_at="19:00", closes_at="09:00"))

    assert "The shop must close after it opens." in response.content.decode()
    assert Settings.load().opens_at == time(9)


def test_it_refuses_an_unknown_placeholder_in_the_task_text(admin_client):
    conn = Settings.load()

    response = admin_client.post(URL, form_data(conn, follow_up_text="Call {client}: {phone}"))

    assert "Unknown placeholder {client}" in response.content.decode()


def test_it_refuses_unbalanced_braces_in_the_task_text(admin_client):
    conn = Settings.load()

    response = admin_client.post(URL, form_data(conn, follow_up_text="Call {name"))

    assert "Unbalanced braces" in response.content.decode()


def test_it_saves_a_task_text_with_known_placeholders(admin_client):
    conn = Settings.load()

    admin_client.post(URL, form_data(conn, follow_up_text="Qo'ng'iroq: {name}, {phone} ({source})"))

    assert Settings.load().follow_up_text == "Qo'ng'iroq: {name}, {phone} ({source})"


def test_it_saves_the_switch_off(admin_client):
    conn = Settings.load()
    data = form_data(conn)
    data.pop("follow_up_enabled")

    admin_client.post(URL, data)

    assert Settings.load().follow_up_enabled is False


def test_without_amocrm_it_offers_the_standard_task_types(admin_client):
    page = admin_client.get(URL).content.decode()

    assert '<option value="2">Meeting</option>' in page


def test_it_offers_the_accounts_own_task_types(admin_client, sandbox_conn):
    page = admin_client.get(URL).content.decode()

    assert "Примерка слухового аппарата" in page
