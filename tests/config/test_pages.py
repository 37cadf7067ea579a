import pytest
from django.test import override_settings

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


@override_settings(DEBUG=False)
def test_server_error_page_is_swedish(client):
    from config.views import server_error

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
