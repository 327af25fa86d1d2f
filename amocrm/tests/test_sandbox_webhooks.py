"""The sandbox's webhooks and deal updates, over real HTTP."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests

from amocrm.sandbox.catalog import ACCOUNT_ID, PIPELINES, WON_STATUS_ID

SALES, DEALERS = PIPELINES
FIRST, NEGOTIATION = SALES.statuses[1].id, SALES.statuses[2].id


class Receiver(ThreadingHTTPServer):
    """A site that takes webhooks: records each POST and answers `status`."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.posts: list[dict] = []
        self.status = 200
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = {key: values[0] for key, values in parse_qs(body).items()}
        self.server.posts.append({"path": self.path, "content_type": self.headers["Content-Type"], "form": form})
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def deal_id(api) -> int:
    response = api.post(f"{api.base}/leads", json=[{"name": "Deal", "pipeline_id": SALES.id, "status_id": FIRST}])
    return response.json()["_embedded"]["leads"][0]["id"]


def _subscribe(api, destination: str, *events: str) -> requests.Response:
    return api.post(f"{api.base}/webhooks", json={"destination": destination, "settings": list(events)})


def test_it_registers_a_webhook_with_the_documented_body(api):
    response = _subscribe(api, "https://acoustic.uz/hook", "status_lead", "update_lead")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "destination", "created_at", "updated_at", "account_id", "created_by", "sort",
                         "disabled", "settings"}  # fmt: skip
    assert body["destination"] == "https://acoustic.uz/hook" and body["account_id"] == ACCOUNT_ID
    assert body["settings"] == ["status_lead", "update_lead"]


def test_it_updates_the_webhook_when_the_destination_is_posted_again(api, amocrm_sandbox):
    first = _subscribe(api, "https://acoustic.uz/hook", "status_lead").json()

    second = _subscribe(api, "https://acoustic.uz/hook", "delete_lead").json()

    assert second["id"] == first["id"] and second["settings"] == ["delete_lead"]
    assert len(amocrm_sandbox.state.webhooks) == 1


def test_it_lists_webhooks_by_destination(api):
    _subscribe(api, "https://acoustic.uz/a", "status_lead")
    _subscribe(api, "https://acoustic.uz/b", "status_lead")

    found = api.get(f"{api.base}/webhooks", params={"filter[destination]": "https://acoustic.uz/b"})
    missing = api.get(f"{api.base}/webhooks", params={"filter[destination]": "https://acoustic.uz/c"})

    assert [hook["destination"] for hook in found.json()["_embedded"]["webhooks"]] == ["https://acoustic.uz/b"]
    assert missing.status_code == 204


def test_it_deletes_a_webhook_and_answers_404_for_an_unknown_one(api, amocrm_sandbox):
    _subscribe(api, "https://acoustic.uz/hook", "status_lead")

    deleted = api.delete(f"{api.base}/webhooks", json={"destination": "https://acoustic.uz/hook"})
    again = api.delete(f"{api.base}/webhooks", json={"destination": "https://acoustic.uz/hook"})

    assert (deleted.status_code, again.status_code) == (204, 404)
    assert amocrm_sandbox.state.webhooks == {}


def test_it_refuses_unknown_events_and_bad_destinations(api):
    response = api.post(f"{api.base}/webhooks", json={"destination": "ftp://x", "settings": ["status_deal"]})

    assert response.status_code == 400
    paths = {e["path"] for e in response.json()["validation-errors"][0]["errors"]}
    assert paths == {"destination", "settings.0"}


def test_it_sends_status_and_update_hooks_when_patch_moves_a_deal(api, amocrm_sandbox, receiver, deal_id):
    _subscribe(api, receiver.url, "status_lead", "update_lead")

    response = api.patch(f"{api.base}/leads/{deal_id}", json={"status_id": WON_STATUS_ID})

    assert response.status_code == 200 and response.json()["id"] == deal_id
    sent = amocrm_sandbox.webhooks_sent(2)
    assert [(d.event, d.status) for d in sent] == [("status_lead", 200), ("update_lead", 200)]
    status = receiver.posts[0]
    assert status["content_type"] == "application/x-www-form-urlencoded"
    assert status["form"]["leads[status][0][id]"] == str(deal_id)
    assert status["form"]["leads[status][0][status_id]"] == str(WON_STATUS_ID)
    assert status["form"]["leads[status][0][old_status_id]"] == str(FIRST)
    assert status["form"]["leads[status][0][pipeline_id]"] == str(SALES.id)
    assert status["form"]["account[id]"] == str(ACCOUNT_ID) and status["form"]["account[subdomain]"] == "sandbox"
    assert receiver.posts[1]["form"]["leads[update][0][status_id]"] == str(WON_STATUS_ID)


def test_it_sends_only_the_events_a_webhook_subscribed_to(api, amocrm_sandbox, receiver, deal_id):
    _subscribe(api, receiver.url, "status_lead")

    api.patch(f"{api.base}/leads/{deal_id}", json={"name": "Renamed"})
    api.patch(f"{api.base}/leads", json=[{"id": deal_id, "pipeline_id": DEALERS.id}])

    sent = amocrm_sandbox.webhooks_sent(1)
    assert [d.event for d in sent] == ["status_lead"]
    assert amocrm_sandbox.state.leads[deal_id].status_id == DEALERS.first_stage.id


def test_it_validates_a_patch_like_a_create(api, deal_id):
    response = api.patch(f"{api.base}/leads", json=[{"id": deal_id, "status_id": 77_000_022, "colour": "red"}])

    assert response.status_code == 400
    paths = {e["path"] for e in response.json()["validation-errors"][0]["errors"]}
    assert paths == {"status_id", "colour"}  # a Dealers stage is not a Sales stage


def test_it_refuses_to_patch_an_unknown_deal(api):
    batch = api.patch(f"{api.base}/leads", json=[{"id": 1, "name": "x"}])
    single = api.patch(f"{api.base}/leads/1", json={"name": "x"})

    assert batch.json()["validation-errors"][0]["errors"][0]["path"] == "id"
    assert single.status_code == 404


def test_it_records_a_delivery_that_failed(api, amocrm_sandbox, receiver, deal_id):
    receiver.status = 500
    _subscribe(api, receiver.url, "update_lead")
    _subscribe(api, "http://127.0.0.1:9/nobody-listens", "update_lead")

    api.patch(f"{api.base}/leads/{deal_id}", json={"price": 100})

    sent = {d.destination: d for d in amocrm_sandbox.webhooks_sent(2)}
    assert sent[receiver.url].status == 500
    assert sent["http://127.0.0.1:9/nobody-listens"].status is None
    assert sent["http://127.0.0.1:9/nobody-listens"].error


def test_the_overview_page_moves_a_deal_and_sends_its_hooks(api, amocrm_sandbox, receiver, deal_id):
    _subscribe(api, receiver.url, "status_lead")

    page = requests.post(f"{amocrm_sandbox.url}/leads/{deal_id}/stage", data={"stage": f"{SALES.id}:{NEGOTIATION}"})

    assert page.status_code == 200 and "Move" in page.text  # redirected back to the overview
    amocrm_sandbox.webhooks_sent(1)
    assert receiver.posts[0]["form"]["leads[status][0][status_id]"] == str(NEGOTIATION)
    assert amocrm_sandbox.state.leads[deal_id].status_id == NEGOTIATION


def test_the_overview_page_deletes_a_deal_and_sends_only_its_id(api, amocrm_sandbox, receiver, deal_id):
    _subscribe(api, receiver.url, "delete_lead")

    requests.post(f"{amocrm_sandbox.url}/leads/{deal_id}/delete")

    amocrm_sandbox.webhooks_sent(1)
    leads_keys = {key for key in receiver.posts[0]["form"] if key.startswith("leads")}
    assert leads_keys == {"leads[delete][0][id]"}
    assert deal_id not in amocrm_sandbox.state.leads
