"""Routing rules against the sandbox: each kind of condition, the first match deciding, and a rule naming what
amoCRM no longer has passed over (the lead takes the next rules, its note says why); the alert is
notifications/tests/test_routing_alert.py."""

import pytest

from amocrm.delivery import routing
from amocrm.models import Delivery, FollowUpChoice, RoutingRule, Settings, TextMatch
from amocrm.sandbox.catalog import DEACTIVATED_USER_ID, MANAGER_IDS
from leads.models import Lead

pytestmark = pytest.mark.django_db
DEALERS, DEALERS_NEW = 7_700_002, 77_000_022
SALES, SALES_FIRST = 7_700_001, 77_000_012


@pytest.fixture
def conn(sandbox_conn, english) -> Settings:
    sandbox_conn.pipeline_id, sandbox_conn.status_id, sandbox_conn.tags = SALES, SALES_FIRST, "sayt"
    sandbox_conn.responsible_user_id = MANAGER_IDS[0]
    sandbox_conn.save()
    return sandbox_conn


def rule(name: str = "Dealers", position: int = 0, **fields) -> RoutingRule:
    targets = {"pipeline_id": DEALERS, "status_id": DEALERS_NEW, "responsible_user_id": MANAGER_IDS[1]}
    return RoutingRule.objects.create(name=name, position=position, **{**targets, **fields})


def lead(**fields) -> Lead:
    return Lead.objects.create(**{"name": "Dilnoza", "phone": "+998901234567", "phone_raw": "x", **fields})


def test_a_source_rule_takes_leads_of_that_source(conn):
    rule(source="dealer_form")

    route = routing.match(conn, lead(source="dealer_form"))

    assert (route.pipeline_id, route.status_id) == (DEALERS, DEALERS_NEW)


def test_a_source_rule_leaves_other_sources_to_the_default(conn):
    rule(source="dealer_form")

    route = routing.match(conn, lead(source="callback"))

    assert route.rule_name == ""


def test_a_product_rule_takes_leads_about_that_product(conn):
    rule(product_id="piano-42")

    assert routing.match(conn, lead(product_id="piano-42")).rule_name == "Dealers"


def test_a_product_rule_leaves_other_products(conn):
    rule(product_id="piano-42")

    assert routing.match(conn, lead(product_id="piano-421")).rule_name == ""


def test_an_exact_utm_source_rule_takes_the_same_source_in_any_case(conn):
    rule(utm_source="instagram")

    assert routing.match(conn, lead(utm_source="Instagram")).rule_name == "Dealers"


def test_an_exact_utm_source_rule_leaves_a_longer_source(conn):
    rule(utm_source="instagram")

    assert routing.match(conn, lead(utm_source="instagram_stories")).rule_name == ""


def test_a_contains_utm_source_rule_takes_a_longer_source(conn):
    rule(utm_source="insta", utm_source_match=TextMatch.CONTAINS)

    assert routing.match(conn, lead(utm_source="instagram_stories")).rule_name == "Dealers"


def test_a_utm_campaign_rule_takes_that_campaign(conn):
    rule(utm_campaign="winter_sale")

    assert routing.match(conn, lead(utm_campaign="winter_sale")).rule_name == "Dealers"


def test_a_contains_utm_campaign_rule_takes_campaigns_containing_it(conn):
    rule(utm_campaign="sale", utm_campaign_match=TextMatch.CONTAINS)

    assert routing.match(conn, lead(utm_campaign="winter_sale_2026")).rule_name == "Dealers"


def test_a_page_prefix_rule_takes_pages_under_it_with_or_without_scheme(conn):
    rule(page_url_prefix="acoustic.uz/catalog/pianos")

    assert routing.match(conn, lead(page_url="https://www.acoustic.uz/catalog/pianos/yamaha")).rule_name == "Dealers"


def test_a_page_prefix_rule_leaves_other_pages(conn):
    rule(page_url_prefix="acoustic.uz/catalog/pianos")

    assert routing.match(conn, lead(page_url="https://acoustic.uz/catalog/guitars")).rule_name == ""


def test_every_condition_given_must_hold(conn):
    rule(source="callback", utm_source="instagram")

    assert routing.match(conn, lead(source="callback", utm_source="telegram")).rule_name == ""


def test_the_first_matching_rule_in_order_decides(conn):
    rule("Second", position=2, source="callback", responsible_user_id=MANAGER_IDS[2])
    rule("First", position=1, source="callback")

    assert routing.match(conn, lead(source="callback")).rule_name == "First"


def test_an_inactive_rule_is_skipped(conn):
    rule(source="callback", active=False)

    assert routing.match(conn, lead(source="callback")).rule_name == ""


def test_a_rule_gives_the_lead_to_its_manager(conn):
    rule(source="callback")

    assert routing.match(conn, lead(source="callback")).responsible_user_id == MANAGER_IDS[1]


def test_a_rule_without_targets_keeps_the_default_stage(conn):
    rule(source="callback", pipeline_id=None, status_id=None)

    route = routing.match(conn, lead(source="callback"))

    assert (route.pipeline_id, route.status_id) == (SALES, SALES_FIRST)


def test_a_rule_tags_replace_the_default_tags(conn):
    rule(source="callback", tags="dealer, opt")

    assert routing.match(conn, lead(source="callback")).tags == ("dealer", "opt")


def test_a_rule_can_turn_the_follow_up_task_off(conn):
    rule(source="callback", follow_up=FollowUpChoice.NONE)

    assert routing.match(conn, lead(source="callback")).follow_up is None


def test_a_rule_can_have_its_own_follow_up_task(conn):
    rule(source="callback", follow_up=FollowUpChoice.OWN, follow_up_text="Dealer {name}", follow_up_minutes=5)

    follow_up = routing.match(conn, lead(source="callback")).follow_up

    assert (follow_up.text_template, follow_up.minutes) == ("Dealer {name}", 5)


# What amoCRM no longer has


def test_a_rule_naming_a_vanished_pipeline_falls_through_to_the_default(conn):
    rule(source="callback", pipeline_id=999, status_id=None)

    route = routing.match(conn, lead(source="callback"))

    assert (route.pipeline_id, route.status_id) == (SALES, SALES_FIRST)


def test_a_rule_naming_a_vanished_stage_falls_through_to_the_next_rule(conn):
    rule("Broken", position=1, source="callback", status_id=999)
    rule("Next", position=2, source="callback")

    assert routing.match(conn, lead(source="callback")).rule_name == "Next"


def test_a_rule_naming_a_deactivated_user_falls_through(conn):
    rule(source="callback", responsible_user_id=DEACTIVATED_USER_ID)

    assert routing.match(conn, lead(source="callback")).responsible_user_id == MANAGER_IDS[0]


def test_a_rule_naming_a_user_amocrm_no_longer_has_falls_through(conn):
    rule(source="callback", responsible_user_id=4242)

    assert routing.match(conn, lead(source="callback")).rule_name == ""


def test_the_note_says_why_the_rule_was_not_used(conn):
    rule(source="callback", pipeline_id=999, status_id=None)

    note = routing.match(conn, lead(source="callback")).note

    assert note == "Rule Dealers not used: amoCRM no longer has pipeline #999."


def test_the_delivery_records_the_note_for_the_lead_page(conn):
    rule(source="callback", responsible_user_id=DEACTIVATED_USER_ID)
    delivery = Delivery.objects.create(lead=lead(source="callback"))

    routing.assign(conn, [delivery])

    delivery.refresh_from_db()
    assert "Sardor Tursunov is deactivated in amoCRM" in delivery.route_note


def test_without_the_catalog_a_rule_is_used_as_it_is(conn, monkeypatch):
    monkeypatch.setattr(routing.catalog, "load_or_none", lambda conn: None)
    rule(source="callback", pipeline_id=999, status_id=None)

    assert routing.match(conn, lead(source="callback")).pipeline_id == 999


def test_a_default_user_amocrm_deactivated_is_left_to_amocrm(conn):
    conn.responsible_user_id = DEACTIVATED_USER_ID

    assert routing.match(conn, lead()).responsible_user_id is None


def test_a_rule_amocrm_can_honour_again_stops_alerting_with_its_next_lead(conn):
    broken = rule(source="callback", pipeline_id=999, status_id=None)
    routing.assign(conn, [Delivery.objects.create(lead=lead(source="callback"))])
    RoutingRule.objects.filter(pk=broken.pk).update(pipeline_id=DEALERS)

    routing.assign(conn, [Delivery.objects.create(lead=lead(source="callback"))])

    broken.refresh_from_db()
    assert broken.broken_reason == ""
