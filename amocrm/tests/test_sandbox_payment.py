"""The sandbox as an account whose subscription has ended: writes refused with 402, reads still answered."""

import requests


def _unpaid(sandbox) -> None:
    assert requests.post(f"{sandbox.url}/_sandbox/control", json={"payment_required": True}).ok


def test_it_refuses_a_new_deal_with_402_problem_json(api, amocrm_sandbox):
    _unpaid(amocrm_sandbox)

    response = api.post(f"{api.base}/leads/complex", json=[{"name": "Lead"}])

    assert response.status_code == 402
    assert response.json()["title"] == "Payment Required"


def test_it_creates_nothing_while_unpaid(api, amocrm_sandbox):
    _unpaid(amocrm_sandbox)

    api.post(f"{api.base}/leads/complex", json=[{"name": "Lead"}])

    assert amocrm_sandbox.state.leads == {}


def test_it_still_answers_reads_while_unpaid(api, amocrm_sandbox):
    _unpaid(amocrm_sandbox)

    response = api.get(f"{api.base}/account")

    assert response.status_code == 200


def test_it_takes_writes_again_once_paid(api, amocrm_sandbox):
    _unpaid(amocrm_sandbox)
    requests.post(f"{amocrm_sandbox.url}/_sandbox/control", json={"payment_required": False})

    response = api.post(f"{api.base}/leads/complex", json=[{"name": "Lead"}])

    assert response.status_code == 200


def test_it_refuses_a_payment_switch_that_is_not_true_or_false(amocrm_sandbox):
    response = requests.post(f"{amocrm_sandbox.url}/_sandbox/control", json={"payment_required": "yes"})

    assert response.status_code == 400
