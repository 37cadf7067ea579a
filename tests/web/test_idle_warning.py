"""The idle timeout warns and loses nothing: the page knows when the session
ends, "Fortsätt" pushes it on, and a form posted after the end comes back
filled in (never a password) after the new login."""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def expires_in(page: str) -> int:
    return int(re.search(r'data-expires-in="(\d+)"', page).group(1))


def test_a_logged_in_page_says_when_the_session_ends_and_loads_the_script(client, principal, clock):
    verify_session(client, principal)
    page = client.get("/e-tjanster/").content.decode()
    assert 30 * 60 - 1 <= expires_in(page) <= 30 * 60  # the stamp is whole seconds
    assert 'src="/static/js/session.js"' in page
    assert "<script>" not in page  # CSP script-src 'self': no inline script
    clock.shift(datetime.timedelta(minutes=10, seconds=30))
    # Within the minute's resolution the stamp is pushed on by this request.
    assert expires_in(client.get("/e-tjanster/").content.decode()) >= 30 * 60 - 1


def test_an_anonymous_page_has_no_warning(client, db):
    assert "session-warning" not in client.get("/").content.decode()


def test_continue_pushes_the_timeout_on_and_answers_json(client, principal, clock):
    verify_session(client, principal)
    clock.shift(datetime.timedelta(minutes=28))
    response = client.post("/sessionen/fortsatt/", HTTP_ACCEPT="application/json")
    assert 30 * 60 - 1 <= response.json()["expires_in"] <= 30 * 60
    clock.shift(datetime.timedelta(minutes=28))
    assert client.get("/e-tjanster/").status_code == 200  # 56 minutes, still logged in


def test_continue_without_javascript_returns_to_the_page(client, principal):
    verify_session(client, principal)
    response = client.post("/sessionen/fortsatt/", {"next": "/e-tjanster/"})
    assert response["Location"] == "/e-tjanster/"
    evil = client.post("/sessionen/fortsatt/", {"next": "https://evil.example/"})
    assert evil["Location"] == "/"


def test_continue_after_the_end_says_so(client, principal, clock):
    verify_session(client, principal)
    clock.shift(datetime.timedelta(minutes=31))
    response = client.post("/sessionen/fortsatt/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json() == {"expired": True}


def test_a_form_posted_after_the_idle_timeout_comes_back_filled_in(
    client, principal, grundskola, clock
):
    verify_session(client, principal)
    url = f"/e-tjanster/skolor/{grundskola.code}/larare/ny/"
    client.get(url)
    clock.shift(datetime.timedelta(minutes=31))
    response = client.post(
        url,
        {
            "first_name": "Saga",
            "last_name": "Sparad",
            "email": "saga@skola.example",
            "subjects": ["GRGRMAT01", "GRGRSVE01"],
            "password": "never-kept",
            "C4": "XY",
        },
        HTTP_REFERER=f"http://testserver{url}",
    )
    assert response.status_code == 302
    assert response["Location"] == f"/e-tjanster/logga-in/?next={url.replace('/', '%2F')}"
    assert not User.objects.filter(email="saga@skola.example").exists()
    notice = client.get(response["Location"]).content.decode()
    assert "inte längre inloggad" in notice
    stash = client.session["accounts_resume"]
    assert "password" not in stash["fields"] and "C4" not in stash["fields"]

    verify_session(client, principal)  # the new login keeps the anonymous session's data
    page = client.get(url).content.decode()
    assert 'value="Saga"' in page and 'value="saga@skola.example"' in page
    assert re.search(r'value="GRGRMAT01"[^>]*checked', page)
    assert "never-kept" not in page
    assert "fyllts i igen" in page
    # Once only.
    assert 'value="Saga"' not in client.get(url).content.decode()


def test_a_stash_is_only_for_its_own_page(client, principal, grundskola, clock):
    verify_session(client, principal)
    clock.shift(datetime.timedelta(minutes=31))
    url = f"/e-tjanster/skolor/{grundskola.code}/larare/ny/"
    client.post(url, {"first_name": "Saga"})
    verify_session(client, principal)
    other = client.get(f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/")
    assert 'value="Saga"' not in other.content.decode()


def test_an_english_form_posted_after_the_idle_timeout_is_kept_too(
    client, principal, grundskola, clock
):
    verify_session(client, principal)
    url = f"/en/e-tjanster/skolor/{grundskola.code}/larare/ny/"
    clock.shift(datetime.timedelta(minutes=31))
    response = client.post(
        url,
        {"first_name": "Saga", "email": "saga@skola.example", "password": "never-kept"},
        HTTP_REFERER=f"http://testserver{url}",
    )
    assert response.status_code == 302
    assert response["Location"] == f"/en/e-tjanster/logga-in/?next={url.replace('/', '%2F')}"
    assert client.session["accounts_resume"]["fields"] == {
        "first_name": ["Saga"],
        "email": ["saga@skola.example"],
    }
    assert "no longer logged in" in client.get(response["Location"]).content.decode()
