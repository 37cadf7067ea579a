"""English under /en/, Swedish at every public-contract path, and a switch
between them that keeps the reader on the same page."""

import re

import pytest
from django.test import Client
from django.utils import translation

from audit.context import AuditContext
from permissions.slips import Slip, render_slips
from tests.conftest import END_OF_YEAR
from tests.fixtures.pdfs import pdf_text

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/",
    "/hjalp/",
    "/kontakt/",
    "/kontakt/huvudman/",
    "/tillganglighet/",
    "/e-tjanster/logga-in/",
    "/bedomningsportalen/",
    "/bedomningsportalen/logga-in/",
]


def lang_of(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_is_swedish_at_its_path_and_english_under_en(client, path):
    swedish = client.get(path, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert swedish.status_code == 200
    # The path decides, never the browser: a bookmark always opens in Swedish.
    assert lang_of(swedish.content.decode()) == "sv"
    assert swedish["Content-Language"] == "sv"
    english = client.get("/en" + path, HTTP_ACCEPT_LANGUAGE="sv")
    assert english.status_code == 200
    assert lang_of(english.content.decode()) == "en"


def test_english_pages_speak_english(client):
    html = client.get("/en/e-tjanster/logga-in/").content.decode()
    assert "Log in to E-services" in html
    assert "Logga in" not in html


def test_the_language_switch_keeps_the_page_and_its_query(client):
    html = client.get("/bedomningsportalen/?q=prov&sida=2").content.decode()
    link = re.search(r'<a href="([^"]+)" lang="en" hreflang="en">English</a>', html)
    assert link.group(1) == "/en/bedomningsportalen/?q=prov&amp;sida=2"
    back = client.get("/en/hjalp/").content.decode()
    assert '<a href="/hjalp/" lang="sv" hreflang="sv">Svenska</a>' in back


@pytest.mark.parametrize(
    ("page", "switched"),
    [
        # On a login page the way back switches language with the page.
        (
            "/en/e-tjanster/logga-in/?next=%2Fen%2Fe-tjanster%2F",
            '<a href="/e-tjanster/logga-in/?next=%2Fe-tjanster%2F" lang="sv" hreflang="sv">',
        ),
        (
            "/bedomningsportalen/logga-in/?next=%2Fbedomningsportalen%2Fkonto%2F",
            '<a href="/en/bedomningsportalen/logga-in/?next=%2Fen%2Fbedomningsportalen%2Fkonto%2F"'
            ' lang="en" hreflang="en">',
        ),
        # Anything but a path of this site is left as it is (the login ignores it).
        (
            "/e-tjanster/logga-in/?next=https%3A%2F%2Fevil.example%2F",
            '<a href="/en/e-tjanster/logga-in/?next=https%3A%2F%2Fevil.example%2F" lang="en"',
        ),
    ],
)
def test_the_switch_takes_the_way_back_after_a_login_into_the_new_language(client, page, switched):
    assert switched in client.get(page).content.decode()


def test_the_switch_keeps_a_school_page_with_its_code(principal_client, grundskola):
    html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/logg/").content.decode()
    assert f'href="/en/e-tjanster/skolor/{grundskola.code}/logg/"' in html


def test_an_english_visitor_is_sent_to_the_english_login_and_back(client, teacher):
    response = client.get("/en/bedomningsportalen/konto/")
    assert response["Location"] == (
        "/en/bedomningsportalen/logga-in/?next=/en/bedomningsportalen/konto/"
    )
    swedish = client.get("/bedomningsportalen/konto/")
    assert swedish["Location"].startswith("/bedomningsportalen/logga-in/")
    login = client.post(
        "/en/bedomningsportalen/logga-in/",
        {"username": "larare", "password": "larare-password-1234"},
    )
    assert login["Location"] == "/en/bedomningsportalen/"


def test_english_etjanster_login_leads_to_the_english_card_step(client, principal):
    from accounts.services.cards import card_issue

    card_issue(user=principal, context=AuditContext.system())
    response = client.post(
        "/en/e-tjanster/logga-in/", {"username": "rektor", "password": "rektor-password-1234"}
    )
    assert response["Location"] == "/en/e-tjanster/logga-in/matris/"
    assert "three cells" in client.get(response["Location"]).content.decode()


def test_an_unknown_english_page_is_an_english_404_with_a_way_back(db):
    client = Client(raise_request_exception=False)
    response = client.get("/en/finns-inte/")
    html = response.content.decode()
    assert response.status_code == 404
    assert lang_of(html) == "en"
    assert "The page could not be found" in html
    assert '<a href="/" lang="sv" hreflang="sv">Svenska</a>' in html


def slip(password="abcd-2345-EFGH") -> Slip:
    return Slip(
        name="Lars Lärarsson",
        username="lars1234",
        school_name="Testskolan",
        valid_until=END_OF_YEAR,
        password=password,
    )


def test_a_slip_is_printed_in_the_language_of_the_page_that_made_it():
    with translation.override("sv"):
        _, swedish = pdf_text(render_slips([slip()]))
    with translation.override("en"):
        _, english = pdf_text(render_slips([slip()]))
    assert "Din inloggning till Bedömningsportalen" in swedish
    assert "/bedomningsportalen/logga-in/" in swedish and "/en/" not in swedish
    assert "31 juli 2027" in swedish
    assert "Your login to Bedömningsportalen" in english
    assert "/en/bedomningsportalen/logga-in/" in english
    assert "31 July 2027" in english


@pytest.mark.parametrize(
    ("path", "language", "expected"),
    [
        ("/e-tjanster/", "en", "/en/e-tjanster/"),
        ("/en/e-tjanster/", "sv", "/e-tjanster/"),
        ("/en/e-tjanster/", "en", "/en/e-tjanster/"),
        # Never turned into another site's address, never anything but a path.
        ("/en//evil.example/", "sv", "/en//evil.example/"),
        ("/en/\\evil.example/", "sv", "/en/\\evil.example/"),
        ("//evil.example/", "en", "//evil.example/"),
        ("https://evil.example/", "en", "https://evil.example/"),
    ],
)
def test_a_path_in_another_language(path, language, expected):
    from core.i18n import path_in_language

    assert path_in_language(path, language) == expected
