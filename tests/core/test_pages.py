import re

import pytest
from django.test import Client, override_settings
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_start_page_links_to_both_halves_and_help(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="sv"' in html
    assert 'href="#main"' in html
    for link in ('href="/e-tjanster/"', 'href="/bedomningsportalen/"', 'href="/hjalp/"'):
        assert link in html


def test_unknown_page_gets_the_swedish_404(client):
    response = client.get("/finns-inte/")
    assert response.status_code == 404
    assert "Sidan kunde inte hittas" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # A reloaded logout, a bookmarked CSV export, a reloaded import.
        ("/logga-ut/", "Sidan kan inte öppnas så här"),
        ("/e-tjanster/skolor/{code}/logg/csv/", "Sidan kan inte öppnas så här"),
        ("/e-tjanster/skolor/{code}/larare/importera/genomfor/", "Sidan kan inte öppnas så här"),
        ("/en/logga-ut/", "This page cannot be opened this way"),
    ],
)
def test_a_get_of_a_post_only_address_gets_a_page_not_an_empty_405(
    principal_client, grundskola, path, text
):
    response = principal_client.get(path.format(code=grundskola.code))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    page = response.content.decode()
    assert text in page
    assert "Nothing was changed" in page if path.startswith("/en/") else "Inget ändrades" in page
    # The page keeps the headers of the answer it replaces.
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"


def test_only_a_get_of_a_post_address_gets_that_page(principal_client, grundskola):
    # A POST to a page that only shows (a script, a stale form) keeps the
    # plain 405: the page's words would not fit.
    response = principal_client.post(f"/e-tjanster/skolor/{grundskola.code}/logg/")
    assert response.status_code == 405
    assert response.content == b""


def test_an_error_page_speaks_the_language_of_its_path_whatever_ran_before(rf):
    """A database outage met in the session middleware, before the page's
    language is set: the worker's previous request was English."""
    from core.views import page_not_found

    with translation.override("en"):
        assert "Sidan kunde inte hittas" in page_not_found(rf.get("/e-tjanster/")).content.decode()
    with translation.override("sv"):
        page = page_not_found(rf.get("/en/e-tjanster/")).content.decode()
        assert "The page could not be found" in page


@override_settings(DEBUG=False)
def test_server_error_page_is_swedish(client):
    from core.views import server_error

    response = server_error(None)
    assert response.status_code == 500
    assert "Något gick fel" in response.content.decode()


def test_csrf_failure_gets_a_swedish_explanation(principal):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x"})
    assert response.status_code == 403
    assert "Formuläret" in response.content.decode()


def test_security_headers_are_sent(client):
    response = client.get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_browser_asking_for_english_still_gets_swedish(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="sv"' in html
    assert "Hoppa till innehållet" in html


def _server_error_for(error: Exception):
    from core.views import server_error

    # Django calls the handler while it handles the exception.
    try:
        raise error
    except Exception:
        return server_error(None)


@override_settings(DEBUG=False)
def test_a_database_outage_is_a_swedish_503_that_says_to_try_again():
    from django.db import InterfaceError, OperationalError

    for error in (OperationalError("couldn't get a connection"), InterfaceError("closed")):
        response = _server_error_for(error)
        assert response.status_code == 503
        assert response["Retry-After"]
        assert "Tjänsten är tillfälligt otillgänglig" in response.content.decode()


@override_settings(DEBUG=False)
def test_a_failing_file_store_is_a_swedish_503_and_any_other_error_a_500():
    from botocore.exceptions import EndpointConnectionError

    store = _server_error_for(EndpointConnectionError(endpoint_url="http://s3.example"))
    assert store.status_code == 503
    assert "Filarkivet svarar inte" in store.content.decode()
    assert _server_error_for(ValueError("a bug")).status_code == 500


def test_nginx_too_large_page_is_swedish(client):
    response = client.get("/fel/for-stor/")
    assert response.status_code == 413
    assert "Det du skickade är för stort" in response.content.decode()


def test_every_page_names_the_sites_icon_so_no_browser_asks_for_a_missing_favicon(
    client, national_admin
):
    from django.contrib.staticfiles import finders

    from tests.conftest import verify_session

    assert finders.find("img/favicon.svg")
    admin = verify_session(Client(), national_admin)
    for html in (client.get("/").content.decode(), admin.get("/admin/").content.decode()):
        assert re.search(r'<link rel="icon" href="/static/img/favicon[^"]*\.svg"', html), html[:600]
