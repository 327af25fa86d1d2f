import pytest

from amocrm.delivery import payload as deal_payload
from amocrm.delivery import routing
from amocrm.delivery.deal_fields import FieldPlan
from amocrm.models import Delivery, Settings
from leads.models import Lead

pytestmark = pytest.mark.django_db

TRACKING = FieldPlan(
    tracking={"UTM_SOURCE": 701, "UTM_MEDIUM": 702, "UTM_CAMPAIGN": 703, "UTM_CONTENT": 704, "UTM_TERM": 705,
              "UTM_REFERRER": 706},
    marker_field_id=803, source_field_id=801, product_field_id=802,
)  # fmt: skip


@pytest.fixture
def conn() -> Settings:
    conn = Settings.load()
    conn.pipeline_id, conn.status_id, conn.responsible_user_id = 11, 22, 33
    conn.tags = "sayt, acoustic.uz"
    conn.source_field_id, conn.product_field_id, conn.marker_field_id = 801, 802, 803
    conn.save()
    return conn


@pytest.fixture
def delivery() -> Delivery:
    """A lead routed by the settings as they stand (tests that take `conn` set it up first)."""
    lead = Lead.objects.create(
        name="Dilnoza", phone="+998901234567", phone_raw="90 123 45 67", email="d@example.uz", source="callback",
        message="Salom", product_id="p-42", page_url="https://acoustic.uz/p/42", referrer="https://google.com/",
        utm_source="google", utm_medium="cpc", utm_campaign="nov",
    )  # fmt: skip
    delivery = Delivery.objects.create(lead=lead)
    delivery.marker = deal_payload.marker_for(delivery, "abc123def456")
    routing.assign(Settings.load(), [delivery])
    return delivery


def test_it_builds_a_deal_with_its_contact_embedded(conn, delivery):
    body = deal_payload.complex_lead(conn, delivery, TRACKING, contact_id=None)

    assert body["request_id"] == str(delivery.id)
    assert (body["name"], body["price"]) == ("Yangi so'rov: Dilnoza", 0)
    assert (body["pipeline_id"], body["status_id"], body["responsible_user_id"]) == (11, 22, 33)
    assert body["_embedded"]["tags"] == [{"name": "sayt"}, {"name": "acoustic.uz"}, {"name": "callback"}]
    assert body["_embedded"]["contacts"] == [
        {
            "name": "Dilnoza",
            "custom_fields_values": [
                {"field_code": "PHONE", "values": [{"value": "+998901234567", "enum_code": "WORK"}]},
                {"field_code": "EMAIL", "values": [{"value": "d@example.uz", "enum_code": "WORK"}]},
            ],
        }
    ]


def test_it_fills_tracking_and_mapped_fields(conn, delivery):
    body = deal_payload.complex_lead(conn, delivery, TRACKING, contact_id=None)

    values = {f["field_id"]: f["values"][0]["value"] for f in body["custom_fields_values"]}
    assert values == {701: "google", 702: "cpc", 703: "nov", 706: "https://google.com/", 801: "callback",
                      802: "p-42", 803: f"#{delivery.lead_id} abc123def456"}  # fmt: skip


def test_it_puts_the_marker_first_so_the_40_value_cut_never_drops_it(conn, delivery):
    body = deal_payload.complex_lead(conn, delivery, TRACKING, contact_id=None)

    marker = {"field_id": 803, "values": [{"value": f"#{delivery.lead_id} abc123def456"}]}
    assert body["custom_fields_values"][0] == marker


def test_it_names_the_deal_by_the_template_alone_when_the_marker_has_a_field(conn, delivery):
    body = deal_payload.complex_lead(conn, delivery, TRACKING, contact_id=None)

    assert body["name"] == "Yangi so'rov: Dilnoza"


def test_it_puts_the_marker_in_the_name_while_the_account_has_no_marker_field(conn, delivery):
    body = deal_payload.complex_lead(conn, delivery, FieldPlan(), contact_id=None)

    assert body["name"] == f"Yangi so'rov: Dilnoza [#{delivery.lead_id} abc123def456]"


def test_it_refers_to_a_known_contact_by_id(conn, delivery):
    body = deal_payload.complex_lead(conn, delivery, TRACKING, contact_id=9001)

    assert body["_embedded"]["contacts"] == [{"id": 9001}]


def test_it_leaves_pipeline_and_stage_to_amocrm_when_not_set(delivery):
    body = deal_payload.complex_lead(Settings.load(), delivery, FieldPlan(), contact_id=None)

    assert "pipeline_id" not in body and "status_id" not in body and "custom_fields_values" not in body


def test_a_long_name_is_cut_before_the_marker_not_through_it(conn, delivery):
    delivery.lead.name = "D" * 300

    name = deal_payload.deal_name(conn, delivery, marker_in_name=True)

    assert len(name) == 255
    assert name.endswith(f" [#{delivery.lead_id} abc123def456]")


def test_it_survives_a_mistyped_name_template(conn, delivery):
    conn.lead_name_template = "Lead {nmae} {"

    assert deal_payload.deal_name(conn, delivery) == "Yangi so'rov: Dilnoza"


def test_it_writes_the_note_in_the_sites_language(delivery, settings):
    settings.LANGUAGE_CODE = "uz"
    delivery.amocrm_lead_id = 555

    note = deal_payload.note(delivery)

    assert note["entity_id"] == 555
    assert note["note_type"] == "common"
    assert note["params"]["text"].splitlines()[0] == "Xabar: Salom"


def test_it_names_the_form_for_incoming_leads_by_its_human_name(conn, delivery):
    item = deal_payload.unsorted_form(conn, delivery, TRACKING)

    assert item["metadata"]["form_name"] == "Call back request"
    assert item["metadata"]["form_id"] == "callback"
    assert item["source_uid"] == "acoustic-callback"
