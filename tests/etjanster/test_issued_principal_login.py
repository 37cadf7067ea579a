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


def test_issued_principal_logs_in_and_sees_the_school(client, issued, grundskola):
    response = log_in(client, issued.user.username, issued.password, issued.card.cells)
    assert response.status_code == 302 and response["Location"] == "/e-tjanster/"
    assert grundskola.name in client.get("/e-tjanster/").content.decode()


def test_deactivated_principal_cannot_log_in_and_reactivated_can(client, issued, huvudman_staff):
    principal_deactivate(context=AuditContext(actor=huvudman_staff), principal=issued.user)
    response = log_in(client, issued.user.username, issued.password, issued.card.cells)
    assert response.status_code == 200
    assert client.get("/e-tjanster/").status_code == 302

    principal_reactivate(context=AuditContext(actor=huvudman_staff), principal=issued.user)
    response = log_in(Client(), issued.user.username, issued.password, issued.card.cells)
    assert response.status_code == 302 and response["Location"] == "/e-tjanster/"


def test_logged_in_principal_is_logged_out_by_new_credentials(client, issued, huvudman_staff):
    log_in(client, issued.user.username, issued.password, issued.card.cells)
    assert client.get("/e-tjanster/").status_code == 200
    new = principal_regenerate(
        context=AuditContext(actor=huvudman_staff), principal=issued.user, password=True, card=True
    )
    assert client.get("/e-tjanster/").status_code == 302
    assert (
        log_in(Client(), issued.user.username, issued.password, new.card.cells).status_code == 200
    )
    response = log_in(Client(), issued.user.username, new.password, new.card.cells)
    assert response.status_code == 302 and response["Location"] == "/e-tjanster/"
