"""The site script as served: a small file at a versioned URL that browsers keep for a year."""

import gzip
import hashlib

import pytest

from leads import site_script

LATEST = "/js/acoustic-leads.js"


@pytest.fixture
def current() -> site_script.Script:
    return site_script.current()


def test_the_plain_url_redirects_to_the_current_version_for_five_minutes(client, current):
    response = client.get(LATEST)

    assert response.status_code == 302
    assert response["Location"] == current.url
    assert response["Cache-Control"] == "public, max-age=300"


def test_an_old_version_redirects_to_the_current_one(client, current):
    response = client.get("/js/acoustic-leads.0123456789ab.js")

    assert response["Location"] == current.url


def test_the_versioned_url_is_cached_for_a_year(client, current):
    response = client.get(current.url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Type"] == "text/javascript; charset=utf-8"


def test_the_version_is_a_hash_of_the_content(client, current):
    content = client.get(current.url).content

    assert current.url == f"/js/acoustic-leads.{hashlib.sha256(content).hexdigest()[:12]}.js"


def test_it_stays_small(current):
    assert len(current.content) <= 11 * 1024  # minified, its texts in three languages included (about 10 KB)
    assert len(gzip.compress(current.content)) <= 4.5 * 1024  # what a browser downloads once a year (about 4 KB)


def test_it_is_sent_compressed_to_browsers_that_take_it(client, current):
    response = client.get(current.url, HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == current.content


def test_it_carries_its_texts_in_every_language_of_the_site(current):
    text = current.content.decode()

    assert "Rahmat! So‘rovingizni qabul qildik" in text
    assert "Спасибо! Мы получили вашу заявку" in text
    assert "Thank you! We have received your request" in text


def test_it_is_minified(current):
    assert b"\n  " not in current.content
    assert b"/*" not in current.content


def test_it_answers_post_with_405(client, current):
    assert client.post(current.url).status_code == 405
