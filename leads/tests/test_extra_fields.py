"""Fields a site's form has beyond ours are kept on the lead; over the limits they get a 400 naming them."""

import json

import pytest

from leads.extra_fields import label
from leads.models import Lead

pytestmark = pytest.mark.django_db

LEAD = {"name": "Dilnoza", "phone": "90 123 45 67"}


def post_json(client, body, language="en"):
    return client.post("/api/leads", json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE=language)


def test_it_keeps_every_other_field_the_form_sends(client):
    post_json(client, {**LEAD, "branch": "Chilonzor", "preferred_time": "10:00-12:00", "hearing_test": "2025-03-14"})

    assert Lead.objects.get().extra == {
        "branch": "Chilonzor",
        "preferred_time": "10:00-12:00",
        "hearing_test": "2025-03-14",
    }


def test_it_keeps_them_from_a_plain_html_form_too(client):
    client.post("/api/leads", {**LEAD, "branch": "Chilonzor", "csrfmiddlewaretoken": "abc"})

    assert Lead.objects.get().extra == {"branch": "Chilonzor"}


def test_it_keeps_every_ticked_box_of_a_group(client):
    client.post("/api/leads", {**LEAD, "ear": ["left", "right"]})

    assert Lead.objects.get().extra == {"ear": "left, right"}


def test_it_writes_json_numbers_booleans_and_lists_as_text(client):
    post_json(client, {**LEAD, "age": 67, "newsletter": True, "ear": ["left", "right"]})

    assert Lead.objects.get().extra == {"age": "67", "newsletter": "true", "ear": "left, right"}


def test_it_leaves_out_blank_fields(client):
    post_json(client, {**LEAD, "branch": "  ", "comment": None})

    assert Lead.objects.get().extra == {}


def test_it_trims_padding_before_measuring(client):
    response = post_json(client, {**LEAD, "branch": "\n" * 50 + "Chilonzor" + " " * 2500})

    assert response.status_code == 201
    assert Lead.objects.get().extra == {"branch": "Chilonzor"}


def test_it_accepts_30_fields(client):
    response = post_json(client, {**LEAD, **{f"field_{n}": "x" for n in range(30)}})

    assert response.status_code == 201
    assert len(Lead.objects.get().extra) == 30


def test_it_names_the_fields_over_30_in_a_400(client):
    response = post_json(client, {**LEAD, **{f"field_{n}": "x" for n in range(32)}})

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["field_30", "field_31"]
    assert not Lead.objects.exists()


def test_it_names_a_value_over_2000_characters(client):
    response = post_json(client, {**LEAD, "about": "x" * 2001})

    assert response.status_code == 400
    assert response.json()["errors"] == {"about": ["Ensure this value has at most 2000 characters (it has 2001)."]}


def test_it_names_a_field_name_over_64_characters(client):
    name = "n" * 65

    response = post_json(client, {**LEAD, name: "x"})

    assert response.status_code == 400
    assert response.json()["errors"] == {name: ["The field's name is longer than 64 characters."]}


def test_it_reports_the_leads_own_errors_together_with_these(client):
    response = post_json(client, {"name": "Dilnoza", "phone": "12", "about": "x" * 2001})

    assert set(response.json()["errors"]) == {"phone", "about"}


def test_it_refuses_a_nul_character_no_database_column_takes(client):
    response = post_json(client, {**LEAD, "branch": "Chilo\x00nzor"})

    assert response.status_code == 400
    assert "branch" in response.json()["errors"]


def test_it_refuses_an_object_as_a_value(client):
    response = post_json(client, {**LEAD, "branch": {"name": "Chilonzor"}})

    assert response.status_code == 400
    assert response.json()["errors"] == {"branch": ["Must be a string."]}


def test_it_refuses_a_field_without_a_name(client):
    response = post_json(client, {**LEAD, " ": "x"})

    assert response.status_code == 400
    assert " " in response.json()["errors"]


def test_it_answers_in_the_visitors_language(client):
    response = post_json(client, {**LEAD, "about": "x" * 2001}, language="ru")

    assert "2000" in response.json()["errors"]["about"][0]
    assert "Ensure" not in response.json()["errors"]["about"][0]


@pytest.mark.parametrize(
    ("name", "shown"), [("branch", "Branch"), ("preferred_time", "Preferred time"), ("hearing-test", "Hearing test")]
)
def test_staff_read_a_fields_name_as_words(name, shown):
    assert label(name) == shown
