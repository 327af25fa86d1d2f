"""Idempotency-Key on POST /api/leads: a repeat within 7 days answers the first lead's id and stores nothing."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from leads.idempotency import forget_expired_keys
from leads.models import Lead
from leads.tasks import forget_idempotency_keys

pytestmark = pytest.mark.django_db

KEY = "3f6c1d2e9b8a4f7e8d1c2b3a4f5e6d7c"
LEAD = {"name": "Dilnoza", "phone": "90 123 45 67", "branch": "Chilonzor"}


def post(client, body=LEAD, key=KEY, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/leads", json.dumps(body), content_type="application/json", **headers, **extra)


def test_it_answers_a_repeated_key_with_the_first_leads_id_and_200(client):
    first = post(client)

    again = post(client)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"]}
    assert Lead.objects.count() == 1


def test_it_queues_no_second_dispatch_for_a_repeat(client, django_capture_on_commit_callbacks):
    post(client)

    with django_capture_on_commit_callbacks() as callbacks:
        post(client)

    assert callbacks == []


def test_it_refuses_a_key_reused_for_another_lead_with_409(client):
    post(client)

    response = post(client, {**LEAD, "name": "Anvar"})

    assert response.status_code == 409
    assert "idempotency key" in response.json()["error"]
    assert Lead.objects.count() == 1


def test_it_counts_extra_fields_as_part_of_the_lead(client):
    post(client)

    response = post(client, {**LEAD, "branch": "Yunusobod"})

    assert response.status_code == 409


def test_it_takes_the_same_lead_as_json_or_as_a_form_for_the_same(client):
    post(client)

    response = client.post("/api/leads", {**LEAD, "phone": "+998901234567"}, HTTP_IDEMPOTENCY_KEY=KEY)

    assert response.status_code == 200


def test_it_takes_blank_attribution_fields_as_left_out(client):
    post(client)

    response = post(client, {**LEAD, "gclid": "", "utm_term": "  "})

    assert response.status_code == 200


def test_it_reads_the_key_from_the_body_for_plain_html_forms(client):
    body = {**LEAD, "idempotency_key": KEY}
    client.post("/api/leads", body)

    response = client.post("/api/leads", body)

    assert response.status_code == 200
    assert Lead.objects.count() == 1


def test_it_takes_the_drafts_quoted_header_value_as_the_same_key(client):
    post(client)

    response = post(client, key=f'"{KEY}"')

    assert response.status_code == 200


def test_it_keeps_each_sites_keys_apart(client):
    post(client, HTTP_ORIGIN="https://acoustic.uz")

    response = post(client, {**LEAD, "name": "Anvar"}, HTTP_ORIGIN="https://partner.example")

    assert response.status_code == 201
    assert Lead.objects.count() == 2


def test_it_matches_a_retry_from_another_ip(client):
    post(client, REMOTE_ADDR="203.0.113.7")

    response = post(client, REMOTE_ADDR="198.51.100.23")  # the phone moved from Wi-Fi to 4G

    assert response.status_code == 200


@pytest.mark.parametrize("key", ["short", "x" * 129, "has space in it", "кириллица-ключ"])
def test_it_refuses_a_malformed_key_with_400(client, key):
    response = post(client, key=key)

    assert response.status_code == 400
    assert "8 to 128" in response.json()["error"]
    assert not Lead.objects.exists()


def test_it_stores_leads_without_a_key_as_before(client):
    post(client, key=None)

    response = post(client, key=None)

    assert response.status_code == 201
    assert Lead.objects.count() == 2


def test_a_key_stops_matching_after_7_days(client):
    first_id = post(client).json()["id"]
    Lead.objects.filter(id=first_id).update(created_at=timezone.now() - timedelta(days=7, minutes=1))

    response = post(client)

    assert response.status_code == 201
    assert response.json()["id"] != first_id
    assert Lead.objects.get(id=first_id).idempotency_key == ""


def test_a_key_still_matches_within_7_days(client):
    first_id = post(client).json()["id"]
    Lead.objects.filter(id=first_id).update(created_at=timezone.now() - timedelta(days=6, hours=23))

    response = post(client)

    assert response.status_code == 200


def test_the_daily_prune_clears_keys_older_than_7_days(client):
    old_id = post(client).json()["id"]
    new_id = post(client, key="a-newer-key-0001").json()["id"]
    Lead.objects.filter(id=old_id).update(created_at=timezone.now() - timedelta(days=8))

    cleared = forget_idempotency_keys()

    assert cleared == 1
    assert Lead.objects.get(id=old_id).idempotency_key == ""
    assert Lead.objects.get(id=new_id).idempotency_key != ""


def test_the_prune_leaves_nothing_to_clear_twice(client):
    Lead.objects.filter(id=post(client).json()["id"]).update(created_at=timezone.now() - timedelta(days=8))
    forget_expired_keys()

    assert forget_expired_keys() == 0


def test_it_stores_a_digest_never_the_key_itself(client):
    post(client)

    assert KEY not in Lead.objects.get().idempotency_key


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_store_one_lead():
    barrier, answers = threading.Barrier(2), []

    def send() -> None:
        barrier.wait()
        answers.append(post(Client()))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer.status_code for answer in answers) == [200, 201]
    assert answers[0].json() == answers[1].json()
    assert Lead.objects.count() == 1
