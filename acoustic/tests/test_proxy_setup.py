"""Behind docker-compose.yml's proxy hop each visitor is one visitor; X-Forwarded-For from any other address is ignored.

The web container sees every request arrive from the hop in front of gunicorn (the network's gateway when nginx runs
on the host). Trusting exactly that hop gives the lead limit and the admin lockout one count per visitor.
"""

import re
from pathlib import Path

import pytest
import yaml

from leads.models import Lead

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ANOTHER_CONTAINER = "172.30.0.9"  # e.g. the worker: on the network, but no proxy
LEAD = {"name": "Dilnoza", "phone": "+998 90 123 45 67"}


def compose_gateway() -> str:
    return COMPOSE["networks"]["default"]["ipam"]["config"][0]["gateway"]


def compose_trusted_proxies() -> str:
    """The web container's TRUSTED_PROXIES as compose sets it when .env does not."""
    value = COMPOSE["services"]["web"]["environment"]["TRUSTED_PROXIES"]
    return re.fullmatch(r"\$\{TRUSTED_PROXIES:-(.*)\}", value).group(1)


def env_example(name: str) -> str:
    return re.search(rf"^{name}=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE).group(1)


@pytest.fixture
def behind_compose_proxy(settings) -> str:
    """Settings as the web container gets them; the address every proxied request comes from."""
    settings.TRUSTED_PROXIES = compose_trusted_proxies().split(",")
    settings.LEAD_RATE_LIMIT = "2/m"
    return compose_gateway()


def post_lead(client, remote: str, forwarded_for: str) -> int:
    response = client.post(
        "/api/leads", LEAD, content_type="application/json", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded_for
    )
    return response.status_code


def test_compose_trusts_exactly_the_gateway_of_its_fixed_network():
    assert compose_trusted_proxies() == compose_gateway()


def test_compose_gives_its_network_a_fixed_subnet():
    assert COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"] == "172.30.0.0/24"


def test_env_example_trusts_what_compose_trusts():
    assert env_example("TRUSTED_PROXIES") == compose_trusted_proxies()


def test_it_limits_two_visitors_behind_the_proxy_separately(client, behind_compose_proxy):
    for _ in range(2):
        post_lead(client, behind_compose_proxy, "203.0.113.5")

    limited = post_lead(client, behind_compose_proxy, "203.0.113.5")
    other = post_lead(client, behind_compose_proxy, "203.0.113.6")

    assert limited == 429
    assert other == 201


def test_it_stores_the_visitors_address_not_the_proxys(client, behind_compose_proxy):
    post_lead(client, behind_compose_proxy, "203.0.113.5")

    assert Lead.objects.get().client_ip == "203.0.113.5"


def test_it_ignores_forwarded_for_from_an_untrusted_address(client, behind_compose_proxy):
    post_lead(client, ANOTHER_CONTAINER, "203.0.113.5")

    assert Lead.objects.get().client_ip == ANOTHER_CONTAINER


def test_a_forged_forwarded_for_does_not_escape_the_limit(client, behind_compose_proxy):
    for n in range(2):
        post_lead(client, ANOTHER_CONTAINER, f"192.0.2.{n}")

    assert post_lead(client, ANOTHER_CONTAINER, "192.0.2.99") == 429


def test_it_locks_out_only_the_visitor_guessing_admin_passwords(
    client, behind_compose_proxy, django_user_model, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    django_user_model.objects.create_user("staff", password="right-password", is_staff=True)
    login = {"username": "staff", "password": "wrong", "next": "/admin/"}
    for _ in range(5):
        client.post("/admin/login/", login, REMOTE_ADDR=behind_compose_proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")

    staff = client.post(
        "/admin/login/",
        {**login, "password": "right-password"},
        REMOTE_ADDR=behind_compose_proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )

    assert staff.status_code == 302
