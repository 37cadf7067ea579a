"""Bedömningsportalen's teacher login and the one logout for both halves."""

import re

import pytest

from audit.context import AuditContext
from audit.models import AuditEvent

PORTAL = "/bedomningsportalen/logga-in/"


def test_teacher_logs_in_and_goes_to_the_catalogue(client, teacher):
    response = client.post(PORTAL, {"username": "larare", "password": "larare-password-1234"})
    assert response.status_code == 302
    assert response["Location"] == "/bedomningsportalen/"
    assert client.session["_auth_user_id"] == str(teacher.pk)
    event = AuditEvent.objects.get(action="login_succeeded")
    assert event.details == {"factor": "password", "door": "bedomningsportalen"}


def test_login_page_has_labelled_fields(client, db):
    page = client.get(PORTAL).content.decode()
    assert re.search(r'<label for="id_username">Användarnamn<span class="required-mark"', page)
    assert re.search(r'<label for="id_password">Lösenord<span class="required-mark"', page)


def test_next_brings_the_teacher_back_to_the_material(client, teacher):
    response = client.post(
        PORTAL + "?next=/bedomningsportalen/material/np-ma-9/",
        {"username": "larare", "password": "larare-password-1234"},
    )
    assert response["Location"] == "/bedomningsportalen/material/np-ma-9/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_unsafe_next_is_ignored(client, teacher, target):
    response = client.post(
        PORTAL, {"username": "larare", "password": "larare-password-1234", "next": target}
    )
    assert response["Location"] == "/bedomningsportalen/"


@pytest.mark.parametrize(
    ("who", "password"),
    [("principal", "rektor-password-1234"), ("test_admin", "provadmin-password-1234")],
)
def test_e_tjanster_credentials_get_the_explanation_not_wrong_password(
    client, db, request, who, password
):
    user = request.getfixturevalue(who)
    response = client.post(PORTAL, {"username": user.username, "password": password})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Fel användarnamn" not in page
    assert "hör till E-tjänster" in page
    assert 'href="/e-tjanster/logga-in/"' in page
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="login_failed").details["refused"] == "not_teacher"


def test_logged_in_teacher_is_sent_on(client, teacher):
    client.force_login(teacher)
    response = client.get(PORTAL)
    assert response["Location"] == "/bedomningsportalen/"


def test_logout_is_a_post_and_ends_the_session(client, teacher):
    client.force_login(teacher)
    assert client.get("/logga-ut/").status_code == 405
    page = client.get("/").content.decode()
    assert "Inloggad som Larare Testsson" in page
    assert 'action="/logga-ut/"' in page
    response = client.post("/logga-ut/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="logout", target="larare").exists()


def test_logout_works_from_the_middle_of_the_e_tjanster_login(client, principal):
    from accounts.services.cards import card_issue

    card_issue(user=principal, context=AuditContext.system())
    client.post("/e-tjanster/logga-in/", {"username": "rektor", "password": "rektor-password-1234"})
    assert "_auth_user_id" in client.session
    client.post("/logga-ut/")
    assert "_auth_user_id" not in client.session


def test_logout_needs_csrf(teacher):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(teacher)
    assert strict.post("/logga-ut/").status_code == 403
    assert strict.session["_auth_user_id"] == str(teacher.pk)
    assert strict.get("/bedomningsportalen/konto/").status_code == 200


@pytest.mark.django_db
def test_the_teachers_login_asks_about_a_lost_password_not_a_card(client):
    """Teachers have no card (black-box walk 3); E-tjänster's login asks about both."""
    portal = client.get("/bedomningsportalen/logga-in/").content.decode()
    assert "Har du tappat bort lösenordet?" in portal
    assert "lösenordet eller kortet?" not in portal
    etjanster = client.get("/e-tjanster/logga-in/").content.decode()
    assert "Har du tappat bort lösenordet eller kortet?" in etjanster


@pytest.mark.django_db
def test_a_username_typed_in_capitals_logs_in(client, teacher):
    """Usernames are lower case; Caps Lock or a phone's capital first letter
    must not read as a wrong password."""
    response = client.post(
        "/bedomningsportalen/logga-in/",
        {"username": f" {teacher.username.upper()} ", "password": "larare-password-1234"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/bedomningsportalen/"
    assert client.session["_auth_user_id"] == str(teacher.pk)
    account = client.get("/bedomningsportalen/konto/")
    assert account.status_code == 200
    assert "Inloggad som Larare Testsson" in account.content.decode()
