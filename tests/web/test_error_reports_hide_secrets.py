"""Passwords and card cells never reach an error report (Django's
SafeExceptionReporterFilter masks what `sensitive_post_parameters` names)."""

import pytest
from django.views.debug import SafeExceptionReporterFilter

from tests.fixtures.logins import MATRIX, asked_cells, log_in_with_password

pytestmark = pytest.mark.django_db


def reported_post(response) -> dict:
    return SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)


def test_matrix_answers_are_hidden_from_error_reports(client, principal, principal_card):
    log_in_with_password(client)
    cells = asked_cells(client.get(MATRIX))
    answers = {cell: principal_card.cells[cell] for cell in cells}
    response = client.post(MATRIX, answers | {"Z99": "extra"})
    reported = reported_post(response)
    for cell, value in answers.items():
        assert reported[cell] != value
    # Every field, also one an attacker adds, since a cell name is any name.
    assert reported["Z99"] != "extra"


def test_the_e_tjanster_password_is_hidden_from_error_reports(client, principal):
    response = log_in_with_password(client, password="fel-losenord-hemligt")
    assert reported_post(response)["password"] != "fel-losenord-hemligt"


def test_the_teachers_password_change_is_hidden_from_error_reports(client, teacher):
    client.force_login(teacher)
    response = client.post(
        "/bedomningsportalen/konto/",
        {
            "old_password": "gammalt-hemligt",
            "new_password1": "nytt-hemligt-123",
            "new_password2": "nytt-hemligt-123",
        },
    )
    reported = reported_post(response)
    for field in ("old_password", "new_password1", "new_password2"):
        assert "hemligt" not in reported[field]


@pytest.mark.parametrize("site", ["/admin/", "/huvudman/"])
def test_the_admin_logins_hide_password_and_code_from_error_reports(client, db, site):
    response = client.post(
        f"{site}login/", {"username": "x", "password": "hemligt", "otp_token": "123456"}
    )
    reported = reported_post(response)
    assert reported["password"] != "hemligt"
    assert reported["otp_token"] != "123456"
