"""The admin login locks one username from one client IP out for an hour after 5 wrong passwords (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Dozens of logins here; the default PBKDF2 rounds would make this file take many seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(django_user_model, fast_hashing):
    return django_user_model.objects.create_user("staff", password="right-password", is_staff=True)


def log_in(client, password: str, username: str = "staff", ip: str = "198.51.100.7", **headers: str):
    data = {"username": username, "password": password, "next": "/admin/"}
    return client.post(LOGIN, data, REMOTE_ADDR=ip, **headers)


def fail(client, times: int, **kwargs: str) -> list[int]:
    return [log_in(client, "wrong", **kwargs).status_code for _ in range(times)]


def test_it_still_lets_staff_in_after_four_wrong_passwords(client, staff):
    assert fail(client, 4) == [200] * 4

    response = log_in(client, "right-password")

    assert (response.status_code, response["Location"]) == (302, "/admin/")


def test_it_answers_the_fifth_wrong_password_with_a_readable_429_page(client, staff):
    fail(client, 4)

    response = log_in(client, "wrong", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page and "locked on this network for 60 minutes" in page


def test_it_explains_the_lockout_in_the_staffs_language(client, staff):
    fail(client, 4)

    response = log_in(client, "wrong", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 429
    assert '<html lang="ru"' in response.content.decode()
    assert "Too many failed logins" not in response.content.decode()


def test_it_refuses_even_the_right_password_while_locked(client, staff):
    fail(client, 5)

    response = log_in(client, "right-password")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_still_lets_the_same_user_in_from_another_address(client, staff):
    fail(client, 5)

    assert log_in(client, "right-password", ip="203.0.113.9").status_code == 302


def test_it_lifts_the_lock_after_an_hour(client, staff):
    fail(client, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1, minutes=1))

    assert log_in(client, "right-password").status_code == 302


def test_it_tells_clients_apart_by_forwarded_for_behind_a_trusted_proxy(client, staff, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    fail(client, 5, ip=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")

    locked = log_in(client, "right-password", ip=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    other = log_in(client, "right-password", ip=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert (locked.status_code, other.status_code) == (429, 302)


def test_it_ignores_forwarded_for_from_an_untrusted_address(client, staff, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    for n in range(5):
        log_in(client, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")  # a forged header does not reset the count

    assert log_in(client, "right-password", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_it_leaves_force_login_alone(admin_client):
    assert admin_client.get("/admin/").status_code == 200
