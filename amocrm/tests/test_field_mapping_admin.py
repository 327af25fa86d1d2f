"""The settings page's table of extra form fields sent to deal fields."""

import pytest

from amocrm.models import ExtraFieldMapping, Settings
from amocrm.tests.settings_page_helpers import URL
from amocrm.tests.settings_page_helpers import form_data as _form_data
from amocrm.tests.settings_page_helpers import messages_of as _messages
from leads.models import Lead

pytestmark = pytest.mark.django_db

SOURCE_FIELD = 900_201  # a text field of the sandbox account


def _with_mapping(conn: Settings, key: str, field_id: int | str) -> dict:
    rows = {"extra_field_mappings-TOTAL_FORMS": "1", "extra_field_mappings-0-key": key,
            "extra_field_mappings-0-field_id": str(field_id)}  # fmt: skip
    return {**_form_data(conn), **rows}


def test_it_offers_the_accounts_fillable_deal_fields(admin_client, sandbox_conn):
    response = admin_client.get(URL)

    form = response.context["inline_admin_formsets"][0].formset.forms[0]
    choices = dict(form.fields["field_id"].choices)
    assert choices[SOURCE_FIELD] == "Source (text)"
    assert 900_101 not in choices  # tracking fields are filled by their codes


def test_it_suggests_the_keys_recent_leads_carried(admin_client, sandbox_conn):
    Lead.objects.create(name="D", phone="+998901234567", phone_raw="901234567", extra={"branch": "Chilonzor"})

    page = admin_client.get(URL).content.decode()

    assert '<option value="branch">' in page


def test_it_saves_a_mapping(admin_client, sandbox_conn):
    admin_client.post(URL, _with_mapping(sandbox_conn, "branch", SOURCE_FIELD))

    assert list(ExtraFieldMapping.objects.values_list("key", "field_id")) == [("branch", SOURCE_FIELD)]


def test_it_refuses_a_field_amocrm_does_not_have(admin_client, sandbox_conn):
    response = admin_client.post(URL, _with_mapping(sandbox_conn, "branch", 123_456))

    assert response.status_code == 200
    assert not ExtraFieldMapping.objects.exists()


def test_it_warns_about_a_mapping_whose_field_amocrm_no_longer_has(admin_client, sandbox_conn):
    ExtraFieldMapping.objects.create(key="branch", field_id=123_456)

    response = admin_client.get(URL)

    assert '"branch" is not sent: deal field #123456 no longer exists in amoCRM.' in _messages(response)


def test_it_keeps_a_vanished_field_selectable_so_saving_does_not_clear_it(admin_client, sandbox_conn):
    ExtraFieldMapping.objects.create(key="branch", field_id=123_456)

    response = admin_client.get(URL)

    form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert dict(form.fields["field_id"].choices)[123_456] == "#123456 (not found in amoCRM)"


def test_it_shows_why_the_marker_field_could_not_be_made(admin_client, sandbox_conn):
    Settings.objects.update(marker_field_problem="amoCRM did not let this site create its deal field.")

    page = admin_client.get(URL).content.decode()

    assert "amoCRM did not let this site create its deal field." in page
