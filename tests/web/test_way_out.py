"""A way out for every lost credential: after a right password a closed
account is told so and whom to ask by name; the login and help pages say
per role who issues a new password or card; a teacher of schools with
different principals gets a code to choose a new password."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from accounts.services.cards import card_issue
from audit.context import AuditContext
from audit.models import AuditEvent
from permissions.models import Membership, TestAdministrator
from schools.models import PrincipalAssignment
from tests.conftest import END_OF_YEAR, deliver_mail, make_user, verify_session

pytestmark = pytest.mark.django_db

ETJANSTER = "/e-tjanster/logga-in/"
PORTAL = "/bedomningsportalen/logga-in/"
WRONG = "Fel användarnamn eller lösenord."


def attempt(client, url, username, password):
    return client.post(url, {"username": username, "password": password})


def test_a_deactivated_principal_is_told_so_and_named_the_huvudmans_contact(client, principal):
    User.objects.filter(pk=principal.pk).update(is_active=False)
    html = attempt(client, ETJANSTER, "rektor", "rektor-password-1234").content.decode()
    assert "Ditt konto är inaktiverat" in html
    assert "Kim Kontakt" in html
    assert "kontakt@testkommun.se" in html
    assert WRONG not in html
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="login_failed")
    assert event.details["refused"] == "account_inactive"


def test_a_wrong_password_for_a_deactivated_account_says_only_wrong(client, principal):
    # SECURITY: only the right password learns that the account is closed.
    User.objects.filter(pk=principal.pk).update(is_active=False)
    html = attempt(client, ETJANSTER, "rektor", "fel").content.decode()
    assert WRONG in html
    assert "inaktiverat" not in html


def test_a_deactivated_teacher_is_named_the_principals_of_its_schools(client, teacher):
    User.objects.filter(pk=teacher.pk).update(is_active=False)
    rektor = make_user("rektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(
        user=rektor, school_unit=teacher.memberships.get().school_unit
    )
    html = attempt(client, PORTAL, "larare", "larare-password-1234").content.decode()
    assert "Ditt konto är inaktiverat" in html
    assert "Rektor Testsson" in html
    assert "rektor@example.se" in html


def test_an_expired_test_admin_is_told_so_and_named_its_principal(client, test_admin, principal):
    TestAdministrator.objects.filter(user=test_admin).update(valid_until="2026-07-31")
    card_issue(user=test_admin, context=AuditContext.system())
    html = attempt(client, ETJANSTER, "provadmin", "provadmin-password-1234").content.decode()
    assert "Ditt uppdrag som provadministratör har upphört" in html
    assert "Rektor Testsson" in html
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="login_failed").details["refused"] == "appointment_ended"


def test_a_deactivated_test_admin_is_named_its_principal(principal_client, test_admin, grundskola):
    card_issue(user=test_admin, context=AuditContext.system())
    principal_client.post(
        f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/inaktivera/",
        {"confirm": "yes"},
    )
    html = attempt(Client(), ETJANSTER, "provadmin", "provadmin-password-1234").content.decode()
    assert "inaktiverat" in html
    assert "Rektor Testsson" in html


def test_an_expired_teacher_logs_in_and_is_pointed_to_the_account_page(client, teacher):
    Membership.objects.filter(user=teacher).update(valid_until="2026-07-31")
    response = attempt(client, PORTAL, "larare", "larare-password-1234")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Ingen av dina behörigheter gäller det här läsåret" in page


def test_deactivated_staff_are_told_only_after_password_and_code(client, huvudman_staff):
    from django_otp.oath import totp

    device = TOTPDevice.objects.create(user=huvudman_staff, name="app", confirmed=True)
    User.objects.filter(pk=huvudman_staff.pk).update(is_active=False)
    data = {"username": "personal", "password": "personal-password-1234", "otp_token": "000000"}
    wrong_code = client.post("/huvudman/login/", data).content.decode()
    assert "inaktiverat" not in wrong_code
    # Past the authenticator's own one-second delay after the wrong code.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5)):
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        right = client.post("/huvudman/login/", {**data, "otp_token": f"{code:06d}"})
    right = right.content.decode()
    assert "Ditt konto är inaktiverat" in right
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url", [ETJANSTER, PORTAL, "/hjalp/"])
def test_the_login_and_help_pages_say_who_issues_new_credentials_per_role(client, db, url):
    html = client.get(url).content.decode()
    section = html.split('id="lost-credentials')[1]
    for role in ("Lärare", "Provadministratörer", "Rektorer", "Huvudmannens personal"):
        assert f"<dt>{role}</dt>" in section
    assert "/kontakt/huvudman/" in section


def test_the_matrix_step_names_the_card_it_expects(client, principal):
    card = card_issue(user=principal, context=AuditContext.system())
    client.post(ETJANSTER, {"username": "rektor", "password": "rektor-password-1234"})
    html = client.get("/e-tjanster/logga-in/matris/").content.decode()
    assert re.search(rf'Använd kort <strong id="card-serial">{card.serial}</strong>', html)


# --- The teacher of schools with different principals --------------------------------


@pytest.fixture
def shared_teacher(teacher, other_school):
    """A teacher at the principal's grundskola and at another huvudman's school."""
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    return teacher


def test_a_principal_of_one_school_mails_the_teacher_a_code_and_never_sees_the_password(
    principal_client,
    shared_teacher,
    grundskola,
    other_school,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    detail = f"/e-tjanster/skolor/{grundskola.code}/larare/larare/"
    page = principal_client.get(detail).content.decode()
    assert "Skicka läraren en kod för nytt lösenord" in page
    assert 'action="' + detail + 'losenord/"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = principal_client.post(detail + "losenordskod/")
    assert response.status_code == 302
    deliver_mail()
    (mail,) = mailoutbox
    assert mail.to == [shared_teacher.email]
    code = re.search(r"Kod: ([A-Z0-9]{4}-[A-Z0-9]{4})", mail.body).group(1)
    # The teacher's current password works until the code is used.
    session = Client()
    session.force_login(shared_teacher)
    new = "lararens-eget-nya-losenord"
    response = Client().post(
        "/bedomningsportalen/kod/",
        {"username": "larare", "code": code, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    teacher = User.objects.get(pk=shared_teacher.pk)
    assert teacher.check_password(new)
    assert session.get("/bedomningsportalen/konto/").status_code == 302
    # The change is in each of the teacher's schools' logs, like a login.
    events = AuditEvent.objects.filter(action="password_changed")
    assert {event.school_unit for event in events} == {grundskola, other_school}
    assert all(event.details["with"] == "email_code" for event in events)
    assert AuditEvent.objects.get(action="email_code_sent").school_unit == grundskola


def test_the_principals_of_a_teacher_together_send_at_most_five_password_codes_an_hour(
    principal_client, shared_teacher, grundskola, other_school, mailoutbox
):
    other = make_user("annanrektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=other, school_unit=other_school)
    other_client = verify_session(Client(), other)
    here = f"/e-tjanster/skolor/{grundskola.code}/larare/larare/losenordskod/"
    there = f"/e-tjanster/skolor/{other_school.code}/larare/larare/losenordskod/"
    for client, url in [(principal_client, here)] * 3 + [(other_client, there)] * 2:
        assert "En kod skickades" in client.post(url, follow=True).content.decode()
    for client, url in [(principal_client, here), (other_client, there)]:
        html = client.post(url, follow=True).content.decode()
        assert "För många koder har skickats till läraren" in html
        assert "En kod skickades" not in html
    assert AuditEvent.objects.filter(action="email_code_sent").count() == 5
    deliver_mail()
    assert len(mailoutbox) == 5
    # An hour later (in a new session: the old ones timed out) a code can be sent again.
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1, seconds=1)):
        later = verify_session(Client(), other)
        assert "En kod skickades" in later.post(there, follow=True).content.decode()


def test_a_school_that_is_not_the_teachers_cannot_send_a_code(
    client, shared_teacher, other_school, mailoutbox
):
    outsider = make_user("utomstaende", Role.PRINCIPAL)
    gymnasium_only = verify_session(Client(), outsider)
    response = gymnasium_only.post(
        f"/e-tjanster/skolor/{other_school.code}/larare/larare/losenordskod/"
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="email_code_sent").exists()
    deliver_mail()
    assert mailoutbox == []


def test_a_logged_in_teacher_at_etjanster_is_told_why_the_login_form_shows(client, teacher):
    client.force_login(teacher)
    response = client.get("/e-tjanster/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/e-tjanster/logga-in/")
    assert "Du är inloggad i Bedömningsportalen som lärare" in html
    # Anonymous visitors get the plain form.
    assert "som lärare" not in Client().get("/e-tjanster/logga-in/").content.decode()
