"""Receiving amoCRM's deal webhooks: parsing, the secret address, the account check, idempotence."""

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amocrm.models import Settings, WebhookEvent
from amocrm.sync.webhook_payload import BadPayload, LeadEvent, parse
from amocrm.tests.deal_sync_helpers import ACCOUNT_ID, SALES, SALES_FIRST, WON, delivered_lead, hook_body, status_hook

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def conn(connected) -> Settings:
    connected.account_id = ACCOUNT_ID
    connected.save()
    return connected


@pytest.fixture
def deal(conn):
    return delivered_lead(555)


def _post(client, conn: Settings, body: str | bytes, secret: str | None = None):
    return client.post(f"/api/amocrm/webhook/{secret or conn.webhook_secret}", body, content_type=FORM)


def test_it_parses_a_status_webhook_of_amocrms_shape():
    payload = parse(status_hook(lead_id=555, status_id=WON, at=1_700_000_123).encode())

    assert (payload.account.id, payload.account.subdomain) == (ACCOUNT_ID, "acoustic")
    assert payload.events == [
        LeadEvent("status", 555, SALES, WON, SALES, SALES_FIRST, modified_at=1_700_000_123),
    ]


def test_it_reads_every_event_of_a_body_and_skips_fields_it_does_not_need():
    body = (
        hook_body("update", 1, pipeline_id=SALES, status_id=SALES_FIRST, updated_at=5, last_modified=4)
        + "&leads[update][0][custom_fields][0][values][0][value]=x&leads[update][0][tags][0][name]=sayt"
        + "&leads[delete][0][id]=2&leads[delete][1][id]=3&contacts[add][0][id]=9&odd]key=1"
    )

    events = parse(body.encode()).events

    assert [(e.action, e.lead_id) for e in events] == [("update", 1), ("delete", 2), ("delete", 3)]
    assert events[0].modified_at == 5  # updated_at before the older last_modified


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00",  # not UTF-8
        b'{"leads": {"status": [{"id": 1}]}}',  # JSON, not a form
        b"leads[status][0][id]=1",  # no account
        b"leads[status][0][id]=abc&account[id]=30000001",
        b"leads[status][0][status_id]=142&account[id]=30000001",  # no deal id
        b"leads[status][0]=1&account[id]=30000001",
        b"leads=1&account[id]=30000001",
        b"leads[status][0][id]=%C2%B2&account[id]=30000001",  # a superscript two is a digit, but not a number
        b"leads[status][0][id]=99999999999999999999&account[id]=30000001",
    ],
)
def test_it_refuses_bodies_it_cannot_read(body):
    with pytest.raises(BadPayload):
        parse(body)


def test_it_stores_the_event_and_queues_its_task(client, conn, deal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = _post(client, conn, status_hook(lead_id=555))

    assert response.status_code == 200
    assert response.json() == {"ok": True, "stored": 1}
    event = WebhookEvent.objects.get()
    assert (event.action, event.lead_id, event.payload["status_id"], event.applied_at) == ("status", 555, WON, None)
    assert len(queued) == 1


def test_the_same_webhook_twice_is_stored_once(client, conn, deal, django_capture_on_commit_callbacks):
    _post(client, conn, status_hook(lead_id=555))

    with django_capture_on_commit_callbacks() as queued:
        again = _post(client, conn, status_hook(lead_id=555))

    assert again.json() == {"ok": True, "stored": 0}
    assert WebhookEvent.objects.count() == 1 and queued == []


def test_a_later_change_of_the_same_deal_is_a_new_event(client, conn, deal):
    _post(client, conn, status_hook(lead_id=555, at=100))

    _post(client, conn, status_hook(lead_id=555, at=200))

    assert WebhookEvent.objects.count() == 2


def test_it_keeps_nothing_about_deals_the_site_did_not_create(client, conn, deal):
    response = _post(client, conn, status_hook(lead_id=777))

    assert response.json() == {"ok": True, "stored": 0}
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("secret", ["wrong-secret", "x"])
def test_a_wrong_secret_is_404(client, conn, deal, secret):
    response = _post(client, conn, status_hook(lead_id=555), secret=secret)

    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_no_secret_is_404(client, conn, deal):
    response = client.post("/api/amocrm/webhook/", status_hook(lead_id=555), content_type=FORM)

    assert response.status_code == 404


def test_the_secret_is_generated_once_and_kept(conn):
    first = Settings.load().webhook_secret

    Settings.load().save()

    assert len(first) >= 40 and Settings.load().webhook_secret == first


def test_another_account_is_403_and_nothing_is_stored(client, conn, deal):
    response = _post(client, conn, hook_body("status", 555, account_id=99, status_id=WON, pipeline_id=SALES))

    assert response.status_code == 403
    assert response.json()["ok"] is False
    assert not WebhookEvent.objects.exists()


def test_without_a_known_account_id_the_subdomain_must_match(client, connected, django_capture_on_commit_callbacks):
    delivered_lead(555)  # `connected` is acoustic.amocrm.ru, account id unknown
    body = hook_body("status", 555, status_id=WON, pipeline_id=SALES)

    ours = _post(client, connected, body)
    theirs = _post(client, connected, hook_body("status", 555, subdomain="other", status_id=WON, pipeline_id=SALES))

    assert (ours.status_code, theirs.status_code) == (200, 403)


@pytest.mark.parametrize("body", [b"\xff\xfe", b'{"a": 1}', b"leads[status][0][id]=x&account[id]=30000001", b""])
def test_a_bad_body_is_400_json(client, conn, deal, body):
    response = _post(client, conn, body)

    assert response.status_code == 400
    assert response.json()["ok"] is False


@pytest.mark.parametrize("field", ["updated_at", "last_modified"])
@pytest.mark.parametrize("at", ["999999999999999999", "253402300800"])  # far past year 9999; its first second
def test_a_time_no_date_can_hold_is_refused_with_400(client, conn, deal, field, at):
    response = _post(client, conn, hook_body("update", 555, pipeline_id=SALES, status_id=WON, **{field: at}))

    assert response.status_code == 400


def test_a_time_no_date_can_hold_is_not_stored(client, conn, deal):
    _post(client, conn, hook_body("update", 555, pipeline_id=SALES, status_id=WON, updated_at="999999999999999999"))

    assert not WebhookEvent.objects.exists()


def test_an_oversized_body_is_400_json(client, conn, deal):
    response = _post(client, conn, status_hook(lead_id=555) + "&pad=" + "x" * (1024 * 1024))

    assert response.status_code == 400


def test_it_takes_only_posts(client, conn, deal):
    response = client.get(f"/api/amocrm/webhook/{conn.webhook_secret}")

    assert response.status_code == 405


# Keys amoCRM sends, a few it might, and nonsense; values numbers or any text.
_KEYS = st.sampled_from([
    "leads[status][0][id]", "leads[status][0][status_id]", "leads[status][1][pipeline_id]", "leads[update][0][id]",
    "leads[update][0][updated_at]", "leads[delete][0][id]", "leads[status][0]", "leads", "leads[]", "leads[[x]]",
    "account[id]", "account[subdomain]", "account", "account[id][0]", "contacts[add][0][id]",
]) | st.text(max_size=30)  # fmt: skip
_VALUES = st.sampled_from(["555", "30000001", "acoustic", "142", "", "-1", "1e3", "9" * 40]) | st.text(max_size=30)
_FORMS = st.lists(st.tuples(_KEYS, _VALUES), max_size=12).map(urlencode)


@settings(derandomize=True, database=None, deadline=None, max_examples=300,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(body=st.binary(max_size=500) | _FORMS.map(str.encode))
def test_no_body_gets_a_5xx_or_a_non_json_answer(client, conn, deal, body):
    response = _post(client, conn, body)

    assert response.status_code in (200, 400, 403)
    assert response["Content-Type"] == "application/json"


@settings(derandomize=True, database=None, deadline=None, max_examples=100,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(secret=st.text(min_size=1, max_size=60).filter(lambda text: "/" not in text))
def test_any_other_secret_is_404(client, conn, deal, secret):
    response = client.post(f"/api/amocrm/webhook/{quote(secret)}", status_hook(), content_type=FORM)

    assert response.status_code == 404
