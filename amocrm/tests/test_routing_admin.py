"""The routing admin: rules and pools chosen from amoCRM by name, deactivated managers said and skipped, the
default's user as a dropdown, the lead page's "where would this lead go?", in Uzbek and Russian too."""

import pytest

from amocrm.delivery import routing
from amocrm.models import Delivery, RotationMember, RotationPool, RoutingRule
from amocrm.sandbox.catalog import DEACTIVATED_USER_ID, MANAGER_IDS
from leads.models import Lead

pytestmark = pytest.mark.django_db
DEALERS, DEALERS_NEW = 7_700_002, 77_000_022
RULES, POOLS, SETTINGS = "/admin/amocrm/routingrule/", "/admin/amocrm/rotationpool/", "/admin/amocrm/settings/1/change/"


def page(client, url: str, language: str = "en") -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def pool(db) -> RotationPool:
    pool = RotationPool.objects.create(name="Sales team")
    RotationMember.objects.create(pool=pool, position=0, user_id=MANAGER_IDS[0])
    RotationMember.objects.create(pool=pool, position=1, user_id=DEACTIVATED_USER_ID)
    return pool


@pytest.fixture
def dealers_rule(db) -> RoutingRule:
    return RoutingRule.objects.create(
        name="Dealers", source="dealer_form", pipeline_id=DEALERS, status_id=DEALERS_NEW,
        responsible_user_id=MANAGER_IDS[1],
    )  # fmt: skip


def test_the_rule_form_offers_stages_by_name(admin_client, sandbox_conn):
    html = page(admin_client, f"{RULES}add/")

    assert '<optgroup label="Dealers">' in html
    assert f'<option value="{DEALERS_NEW}">New request</option>' in html


def test_the_rule_form_offers_users_by_name(admin_client, sandbox_conn):
    html = page(admin_client, f"{RULES}add/")

    assert f'<option value="{MANAGER_IDS[1]}">Aziz Rahimov</option>' in html


def test_the_rule_form_marks_a_deactivated_user(admin_client, sandbox_conn):
    html = page(admin_client, f"{RULES}add/")

    assert "Sardor Tursunov (deactivated in amoCRM, skipped)" in html


def test_saving_a_rule_keeps_the_pipeline_of_its_stage(admin_client, sandbox_conn):
    data = {"name": "Dealers", "active": "on", "position": 1, "source": "dealer_form", "status_id": DEALERS_NEW,
            "responsible_user_id": MANAGER_IDS[1], "utm_source_match": "exact", "utm_campaign_match": "exact",
            "follow_up": "default"}  # fmt: skip

    admin_client.post(f"{RULES}add/", data)

    assert RoutingRule.objects.get().pipeline_id == DEALERS


def test_clearing_a_rules_stage_leaves_the_pipeline_to_the_default(admin_client, sandbox_conn, dealers_rule):
    data = {"name": "Dealers", "position": 1, "source": "dealer_form", "status_id": "", "pipeline_id": DEALERS,
            "utm_source_match": "exact", "utm_campaign_match": "exact", "follow_up": "default"}  # fmt: skip

    admin_client.post(f"{RULES}{dealers_rule.pk}/change/", data)

    dealers_rule.refresh_from_db()
    assert dealers_rule.pipeline_id is None


def test_a_rule_with_a_user_and_a_pool_is_refused(admin_client, sandbox_conn, pool):
    data = {"name": "Both", "position": 1, "responsible_user_id": MANAGER_IDS[1], "rotation_pool": pool.pk,
            "utm_source_match": "exact", "utm_campaign_match": "exact", "follow_up": "default"}  # fmt: skip

    response = admin_client.post(f"{RULES}add/", data)

    assert "Choose one responsible user or a rotation pool, not both." in response.content.decode()


def test_the_rule_list_names_the_stage_and_manager(admin_client, sandbox_conn, dealers_rule):
    html = page(admin_client, RULES)

    assert "Dealers / New request" in html
    assert "Aziz Rahimov" in html


def test_the_rule_list_says_why_a_rule_is_not_used(admin_client, sandbox_conn, dealers_rule):
    dealers_rule.mark_broken("amoCRM no longer has stage #999")

    html = page(admin_client, RULES)

    assert "Rule Dealers is not used: amoCRM no longer has stage #999." in html


def test_the_rule_list_says_when_a_condition_matches_part_of_the_value(admin_client, sandbox_conn):
    RoutingRule.objects.create(name="Spring", utm_campaign="spring", utm_campaign_match="contains")

    assert "UTM campaign: spring (contains)" in page(admin_client, RULES)


def test_the_rule_list_links_the_settings_page_by_name(admin_client, sandbox_conn):
    assert f'<a href="{SETTINGS.replace("1/change/", "")}">Open the amoCRM settings</a>' in page(admin_client, RULES)


def test_the_uzbek_add_button_reads_with_a_space(admin_client, sandbox_conn):
    assert "Qo‘shish: yo‘naltirish qoidasi" in page(admin_client, RULES, "uz")


def test_the_rule_page_says_why_a_rule_is_not_used_only_when_it_is_not(admin_client, sandbox_conn, dealers_rule):
    assert "not used because" not in page(admin_client, f"{RULES}{dealers_rule.pk}/change/").lower()

    dealers_rule.mark_broken("amoCRM no longer has stage #999")

    assert "amoCRM no longer has stage #999" in page(admin_client, f"{RULES}{dealers_rule.pk}/change/")


def test_the_pool_page_says_add_another_manager_and_hides_the_rows_user_ids(admin_client, sandbox_conn, pool):
    html = page(admin_client, f"{POOLS}{pool.pk}/change/")

    assert "amocrm/rotation_members.css" in html
    assert "Add another Manager" in html


def test_the_pool_page_says_a_deactivated_manager_is_skipped(admin_client, sandbox_conn, pool):
    html = page(admin_client, f"{POOLS}{pool.pk}/change/")

    assert "Sardor Tursunov is deactivated in amoCRM: skipped in this rotation." in html


def test_the_pool_list_names_its_managers(admin_client, sandbox_conn, pool):
    html = page(admin_client, POOLS)

    assert "Dilnoza Karimova ×1" in html


def test_the_settings_page_offers_the_default_user_by_name(admin_client, sandbox_conn):
    html = page(admin_client, SETTINGS)

    assert f'<option value="{MANAGER_IDS[0]}">Dilnoza Karimova</option>' in html


def test_the_settings_page_labels_the_user_dropdown_without_id(admin_client, sandbox_conn):
    html = page(admin_client, SETTINGS, "ru")

    assert '<label for="id_responsible_user_id">Ответственный:</label>' in html


def test_the_settings_page_says_the_default_user_was_deactivated(admin_client, sandbox_conn):
    sandbox_conn.responsible_user_id = DEACTIVATED_USER_ID
    sandbox_conn.save()

    html = page(admin_client, SETTINGS)

    assert "Sardor Tursunov is deactivated in amoCRM: leads skip this user until you choose another." in html


def test_the_settings_page_links_the_rules_and_pools(admin_client, sandbox_conn):
    html = page(admin_client, SETTINGS)

    assert f'href="{RULES}"' in html
    assert f'href="{POOLS}"' in html


def test_the_rule_form_offers_the_accounts_task_types_by_name(admin_client, sandbox_conn):
    html = page(admin_client, f"{RULES}add/")

    assert '<option value="2900101">Примерка слухового аппарата</option>' in html


def test_without_amocrm_the_rule_form_offers_the_standard_task_types(admin_client, dealers_rule, english):
    html = page(admin_client, f"{RULES}{dealers_rule.pk}/change/")

    assert '<option value="1">Call</option>' in html


def test_the_rule_page_works_without_amocrm(admin_client, dealers_rule):
    html = page(admin_client, f"{RULES}{dealers_rule.pk}/change/")

    assert 'name="status_id"' in html


@pytest.mark.parametrize(("language", "title"), [("uz", "Yo‘naltirish qoidalari"), ("ru", "Правила маршрутизации")])
def test_the_rule_list_reads_in_the_staffs_languages(admin_client, sandbox_conn, dealers_rule, language, title):
    assert title in page(admin_client, RULES, language)


@pytest.mark.parametrize(("language", "title"), [("uz", "Navbat guruhlari"), ("ru", "Группы ротации")])
def test_the_pool_pages_read_in_the_staffs_languages(admin_client, sandbox_conn, pool, language, title):
    assert title in page(admin_client, POOLS, language)


@pytest.mark.parametrize("language", ["uz", "ru"])
def test_the_rule_form_renders_in_the_staffs_languages(admin_client, sandbox_conn, dealers_rule, language):
    html = page(admin_client, f"{RULES}{dealers_rule.pk}/change/", language)

    assert "Aziz Rahimov" in html


# The lead page: where would this lead go?


def _lead(**fields) -> Lead:
    return Lead.objects.create(**{"name": "Dilnoza", "phone": "+998901234567", "phone_raw": "x", **fields})


def test_the_lead_page_names_the_rule_that_would_match(admin_client, sandbox_conn, dealers_rule):
    lead = _lead(source="dealer_form")

    html = page(admin_client, f"/admin/leads/lead/{lead.pk}/change/")

    assert "<dt>Rule (not routed yet)</dt><dd>Dealers</dd>" in html
    assert "<dd>Aziz Rahimov</dd>" in html


def test_the_lead_page_names_the_next_manager_of_a_pool(admin_client, sandbox_conn, pool):
    RoutingRule.objects.create(name="Everyone", rotation_pool=pool)

    html = page(admin_client, f"/admin/leads/lead/{_lead().pk}/change/")

    assert "the next in pool Sales team (now Dilnoza Karimova)" in html


def test_the_lead_page_shows_what_was_recorded_for_a_routed_lead(admin_client, sandbox_conn, dealers_rule):
    delivery = Delivery.objects.create(lead=_lead(source="dealer_form"))
    routing.assign(sandbox_conn, [delivery])
    RoutingRule.objects.all().delete()

    html = page(admin_client, f"/admin/leads/lead/{delivery.lead_id}/change/")

    assert "<dt>Rule</dt><dd>Dealers</dd>" in html
    assert "<dd>Dealers / New request</dd>" in html


def test_the_lead_page_says_why_a_rule_was_passed_over(admin_client, sandbox_conn, dealers_rule):
    RoutingRule.objects.filter(pk=dealers_rule.pk).update(status_id=999, pipeline_id=None)

    html = page(admin_client, f"/admin/leads/lead/{_lead(source='dealer_form').pk}/change/")

    assert "Rule Dealers not used: amoCRM no longer has stage #999." in html
