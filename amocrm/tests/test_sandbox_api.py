"""The sandbox's API v4, checked against amoCRM's API v4 docs over real HTTP."""

import requests

PHONE = {"field_code": "PHONE", "values": [{"value": "+998 90 123-45-67", "enum_code": "MOB"}]}
EMAIL = {"field_code": "EMAIL", "values": [{"value": "ann@example.com", "enum_code": "PRIV"}]}
MARKER_FIELD_ID = 900_203  # the "Site lead ID" text field


def _marker(value):
    return {"field_id": MARKER_FIELD_ID, "values": [{"value": value}]}


def _complex(contact_fields, **lead):
    return {
        "name": "Lead",
        **lead,
        "_embedded": {"contacts": [{"first_name": "Ann", "custom_fields_values": contact_fields}]},
    }


def _errors(response):
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()["validation-errors"]


def test_it_requires_a_bearer_token(amocrm_sandbox):
    response = requests.get(f"{amocrm_sandbox.url}/api/v4/account")

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Unauthorized"  # amoCRM docs: error-codes


def test_it_refuses_a_token_it_never_issued(amocrm_sandbox):
    response = requests.get(f"{amocrm_sandbox.url}/api/v4/account", headers={"Authorization": "Bearer a.b.c"})

    assert response.status_code == 401


def test_it_describes_the_account(api, amocrm_sandbox):
    response = api.get(f"{api.base}/account")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/hal+json"
    assert response.headers["X-Request-Id"]
    body = response.json()
    assert body["subdomain"] == "sandbox" and body["current_user_id"] > 0  # amoCRM docs: account-info
    assert body["_links"]["self"]["href"] == f"{amocrm_sandbox.url}/api/v4/account"
    assert "amojo_id" not in body


def test_it_adds_account_fields_only_when_asked_with(api):
    body = api.get(f"{api.base}/account", params={"with": "amojo_id,datetime_settings"}).json()

    assert body["amojo_id"]
    assert body["_embedded"]["datetime_settings"]["timezone"]


def test_it_lists_two_pipelines_with_unsorted_won_and_lost_in_each(api):
    pipelines = api.get(f"{api.base}/leads/pipelines").json()["_embedded"]["pipelines"]

    assert len(pipelines) == 2 and [p["is_main"] for p in pipelines] == [True, False]
    for pipeline in pipelines:
        statuses = pipeline["_embedded"]["statuses"]
        assert statuses[0]["type"] == 1  # Unsorted (amoCRM docs: leads_pipelines)
        assert {142, 143} <= {s["id"] for s in statuses}
        assert {s["pipeline_id"] for s in statuses} == {pipeline["id"]}


def test_it_lists_lead_custom_fields_with_the_utm_tracking_codes(api):
    fields = api.get(f"{api.base}/leads/custom_fields").json()["_embedded"]["custom_fields"]

    tracking = {f["code"] for f in fields if f["type"] == "tracking_data"}
    assert tracking == {"UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", "UTM_REFERRER",
                        "REFERRER", "GCLID", "YCLID", "FBCLID", "GCLIENTID", "_YM_UID"}  # fmt: skip
    assert {f["name"] for f in fields if f["type"] == "text" and f["code"] is None} >= {"Source", "Product ID"}


def test_it_pages_custom_fields_with_totals_and_links(api):
    body = api.get(f"{api.base}/leads/custom_fields", params={"limit": 4}).json()

    assert (body["_total_items"], body["_page"], body["_page_count"]) == (15, 1, 4)  # amoCRM docs: custom-fields
    assert "page=2" in body["_links"]["next"]["href"]
    assert "page=4" in body["_links"]["last"]["href"]
    assert len(body["_embedded"]["custom_fields"]) == 4


def test_it_lists_contact_phone_and_email_with_their_enums(api):
    fields = api.get(f"{api.base}/contacts/custom_fields").json()["_embedded"]["custom_fields"]

    enums = {f["code"]: [e["value"] for e in f["enums"]] for f in fields if f["type"] == "multitext"}
    assert enums == {"PHONE": ["WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER"], "EMAIL": ["WORK", "PRIV", "OTHER"]}


def test_it_refuses_a_page_limit_over_250(api):
    response = api.get(f"{api.base}/leads", params={"limit": 251})

    assert response.status_code == 422
    assert response.json()["detail"] == "Limit 250 per page"  # amoCRM docs: recommendations


def test_it_answers_204_with_no_body_for_an_empty_lead_list(api):
    response = api.get(f"{api.base}/leads")

    assert response.status_code == 204  # amoCRM docs: recommendations
    assert response.content == b""


def test_it_creates_leads_linked_on_the_sandbox_url(api, amocrm_sandbox):
    response = api.post(f"{api.base}/leads", json=[{"name": "A"}, {"name": "B", "request_id": "b"}])

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/hal+json"
    created = response.json()["_embedded"]["leads"]
    # the index when none was sent (amoCRM docs: recommendations)
    assert [row["request_id"] for row in created] == ["0", "b"]
    assert created[0]["_links"]["self"]["href"] == f"{amocrm_sandbox.url}/api/v4/leads/{created[0]['id']}"
    assert {lead.name for lead in amocrm_sandbox.state.leads.values()} == {"A", "B"}


def test_it_puts_a_lead_without_a_status_in_the_first_stage_of_the_main_pipeline(api, amocrm_sandbox):
    lead_id = api.post(f"{api.base}/leads", json=[{"name": "A"}]).json()["_embedded"]["leads"][0]["id"]

    lead = api.get(f"{api.base}/leads/{lead_id}").json()

    pipelines = api.get(f"{api.base}/leads/pipelines").json()["_embedded"]["pipelines"]
    assert lead["pipeline_id"] == pipelines[0]["id"]
    # first non-Unsorted stage (amoCRM docs: leads-api)
    assert lead["status_id"] == pipelines[0]["_embedded"]["statuses"][1]["id"]


def test_it_answers_204_for_a_lead_or_contact_that_does_not_exist(api):
    assert api.get(f"{api.base}/leads/999").status_code == 204  # not 404 (amoCRM docs: recommendations)
    assert api.get(f"{api.base}/contacts/999").status_code == 204


def test_it_reads_a_lead_with_its_contacts_only_when_asked(api):
    contact_id = api.post(f"{api.base}/contacts", json=[{"name": "Ann"}]).json()["_embedded"]["contacts"][0]["id"]
    lead = [{"name": "A", "_embedded": {"contacts": [{"id": contact_id}]}}]
    lead_id = api.post(f"{api.base}/leads", json=lead).json()["_embedded"]["leads"][0]["id"]

    plain = api.get(f"{api.base}/leads/{lead_id}").json()
    full = api.get(f"{api.base}/leads/{lead_id}", params={"with": "contacts"}).json()

    assert "contacts" not in plain["_embedded"]
    assert [(c["id"], c["is_main"]) for c in full["_embedded"]["contacts"]] == [(contact_id, True)]


def test_it_pages_leads_until_next_is_absent(api):
    api.post(f"{api.base}/leads", json=[{"name": n} for n in "ABC"])

    first = api.get(f"{api.base}/leads", params={"limit": 2}).json()
    second = api.get(first["_links"]["next"]["href"]).json()
    third = api.get(f"{api.base}/leads", params={"limit": 2, "page": 3})

    assert [row["name"] for row in first["_embedded"]["leads"]] == ["A", "B"]
    assert [row["name"] for row in second["_embedded"]["leads"]] == ["C"]
    # leads lists carry no total (amoCRM docs: recommendations)
    assert "next" not in second["_links"] and "_total_items" not in second
    assert third.status_code == 204


def test_it_finds_leads_by_query_over_custom_field_values(api):
    api.post(f"{api.base}/leads", json=[{"name": "A", "custom_fields_values": [_marker("site-42")]}, {"name": "B"}])

    found = api.get(f"{api.base}/leads", params={"query": "site-42"}).json()["_embedded"]["leads"]

    assert [row["name"] for row in found] == ["A"]  # a marker in a text field can be found again
    assert api.get(f"{api.base}/leads", params={"query": "site-43"}).status_code == 204


def test_it_filters_leads_by_id(api):
    created = api.post(f"{api.base}/leads", json=[{"name": n} for n in "ABC"]).json()["_embedded"]["leads"]

    found = api.get(f"{api.base}/leads", params={"filter[id][]": [created[0]["id"], created[2]["id"]]}).json()

    assert [row["name"] for row in found["_embedded"]["leads"]] == ["A", "C"]


def test_it_orders_leads(api):
    api.post(f"{api.base}/leads", json=[{"name": n} for n in "ABC"])

    found = api.get(f"{api.base}/leads", params={"order[id]": "desc"}).json()

    assert [row["name"] for row in found["_embedded"]["leads"]] == ["C", "B", "A"]


def test_it_finds_a_contact_by_a_fragment_of_its_phone(api):
    api.post(f"{api.base}/contacts", json=[{"name": "Ann", "custom_fields_values": [PHONE, EMAIL]}, {"name": "Bob"}])

    found = api.get(f"{api.base}/contacts", params={"query": "123-45-67"}).json()["_embedded"]["contacts"]

    assert [c["name"] for c in found] == ["Ann"]
    assert found[0]["custom_fields_values"][0]["values"][0] == {
        "value": "+998 90 123-45-67",
        "enum_id": 1003,
        "enum_code": "MOB",
    }


def test_it_answers_204_when_a_contact_query_matches_nothing(api):
    api.post(f"{api.base}/contacts", json=[{"name": "Ann", "custom_fields_values": [PHONE]}])

    # amoCRM docs: contacts-api
    assert api.get(f"{api.base}/contacts", params={"query": "+71234567890"}).status_code == 204
