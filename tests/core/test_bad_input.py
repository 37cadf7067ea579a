"""`core.middleware.BadInputMiddleware`: input no page of ours can mean is
the Swedish 400 page before any view runs, and nothing a person can send
legitimately is."""

import pytest
from django.conf import settings

from core.network import DEVICE_COOKIE

pytestmark = pytest.mark.django_db

BAD_REQUEST = "Begäran kunde inte hanteras"
HELP = "/hjalp/"


def is_bad_request(response) -> bool:
    return response.status_code == 400 and BAD_REQUEST in response.content.decode()


def is_help_page(response) -> bool:
    return (
        response.status_code == 200
        and "<title>Hjälp – Behörighetsportalen</title>" in response.content.decode()
    )


def is_not_found(response) -> bool:
    html = response.content.decode()
    return (
        response.status_code == 404
        and "Sidan kunde inte hittas" in html
        and BAD_REQUEST not in html
    )


@pytest.mark.parametrize(
    "path",
    [
        "/%FF/",
        "/hjalp/%FF",
        "/bedomningsportalen/material/%C3%28/",  # a broken two-byte sequence
        "/en/admin/portal/material/%E9t%E9/",  # Latin-1 é, not UTF-8
        "/hjalp/%00",
    ],
)
def test_a_path_with_bytes_that_are_not_utf8_or_nul_is_a_400(client, path):
    response = client.get(path)
    if path.startswith("/en/"):
        # The page speaks its path's language, also before any view runs.
        assert response.status_code == 400
        assert "The request could not be handled" in response.content.decode()
    else:
        assert is_bad_request(response)


def test_a_path_in_utf8_is_not_bad_input(client):
    # "/hjälp/" (ä as UTF-8): no such page, but a request a person can make.
    assert is_not_found(client.get("/hj%C3%A4lp/"))
    # A percent sign that escapes nothing is just a character.
    assert is_not_found(client.get("/hjalp/100%25"))


@pytest.mark.parametrize(
    "name", [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, DEVICE_COOKIE]
)
def test_our_own_cookie_with_bytes_that_are_not_utf8_is_a_400(client, name):
    # A WSGI header string holds one character per byte: "\xff" is the byte 0xFF.
    assert is_bad_request(client.get(HELP, HTTP_COOKIE=f"{name}=ab\xffcd"))


def test_a_nul_byte_in_any_cookie_is_a_400(client):
    assert is_bad_request(client.get(HELP, HTTP_COOKIE="annan=a\x00b"))


def test_cookies_in_utf8_and_other_sites_cookies_are_not_bad_input(client):
    # ä as UTF-8 in our cookie (no session by that key: just anonymous).
    assert is_help_page(client.get(HELP, HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}=x\xc3\xa4"))
    # Another site on the parent domain may have set a Latin-1 cookie; the
    # person could not remove it, so it must not lock them out of every page.
    assert is_help_page(client.get(HELP, HTTP_COOKIE="foretag_sprak=sv\xe5"))
