"""A principal issued by huvudman staff logs in to E-tjänster through the real
login pages with what was shown once; deactivation and regeneration shut the
old ways in at once."""

import re

import pytest
from django.test import Client

from audit.context import AuditContext
from schools.services import (
    principal_deactivate,
    principal_issue,
    principal_reactivate,
    principal_regenerate,
)

pytestmark = pytest.mark.django_db

LOGIN = "/e-tjanster/logga-in/"
MATRIX = "/e-tjanster/logga-in/matris/"


@pytest.fixture
def issued(grundskola, huvudman_staff):
    return principal_issue(
        context=AuditContext(actor=huvudman_staff),
        name="Rut Rektorsson",
        email="rut@x.se",
        school_units=[grundskola],
    )


def log_in(client: Client, username: str, password: str, cells: dict[str, str]):
    response = client.post(LOGIN, {"username": username, "password": password})
    if response.status_code != 302 or response["Location"] != MATRIX:
        return response
    page = client.get(MATRIX).content.decode()
    asked = re.findall(r'name="([A-H](?:10|[1-9]))"', page)
    assert len(asked) == 3
    return client.post(MATRIX, {cell: cells[cell] for cell in asked})


def logged_in_to_the_school(client: Client, response, school) -> bool:
    """The login ended on E-tjänster's home, which this browser now opens: it names the school."""
    if response.status_code != 302 or response["Location"] != "/e-tjanster/":
        return False
    home = client.get("/e-tjanster/")
    return home.status_code == 200 and school.name in home.content.decode()


def not_logged_in(client: Client) -> bool:
    return client.get("/e-tjanster/")["Location"] == "/e-tjanster/logga-in/?next=/e-tjanster/"


def test_issued_principal_logs_in_and_sees_the_school(client, issued, grundskola):
    response = log_in(client, issued.user.username, issued.password, issued.card.cells)
    assert logged_in_to_the_school(client, response, grundskola)


def test_deactivated_principal_cannot_log_in_and_reactivated_can(
    client, issued, huvudman_staff, grundskola
):
    principal_deactivate(context=AuditContext(actor=huvudman_staff), principal=issued.user)
    response = log_in(client, issued.user.username, issued.password, issued.card.cells)
    assert response.status_code == 200
    assert "Ditt konto är inaktiverat" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not_logged_in(client)

    principal_reactivate(context=AuditContext(actor=huvudman_staff), principal=issued.user)
    again = Client()
    response = log_in(again, issued.user.username, issued.password, issued.card.cells)
    assert logged_in_to_the_school(again, response, grundskola)


def test_logged_in_principal_is_logged_out_by_new_credentials(
    client, issued, huvudman_staff, grundskola
):
    response = log_in(client, issued.user.username, issued.password, issued.card.cells)
    assert logged_in_to_the_school(client, response, grundskola)
    new = principal_regenerate(
        context=AuditContext(actor=huvudman_staff), principal=issued.user, password=True, card=True
    )
    assert not_logged_in(client)
    old_password = Client()
    response = log_in(old_password, issued.user.username, issued.password, new.card.cells)
    assert response.status_code == 200
    assert "Fel användarnamn eller lösenord." in response.content.decode()
    assert not_logged_in(old_password)
    fresh = Client()
    response = log_in(fresh, issued.user.username, new.password, new.card.cells)
    assert logged_in_to_the_school(fresh, response, grundskola)
