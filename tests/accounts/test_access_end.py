"""One way to end access: every path through which an account loses access
ends every session it had, for good — giving access back never revives a
session started before (SPEC; ASVS 7.4.2). One test per path."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, Session, User
from accounts.services.access import access_end
from audit.context import AuditContext
from audit.models import AuditEvent
from permissions.models import Membership, TestAdministrator
from schools.models import PrincipalAssignment
from tests.conftest import END_OF_YEAR, verify_session
from tests.fixtures.material import STOCKHOLM

pytestmark = pytest.mark.django_db

# Irreversible acts go through a confirmation page; the form posts this (issue 9).
CONFIRM = {"confirm": "yes"}

ETJANSTER = "/e-tjanster/"
PORTAL_ACCOUNT = "/bedomningsportalen/konto/"


def logged_in(client: Client, url: str) -> bool:
    """Whether `client`'s session still opens `url` (a redirect is a login page)."""
    return client.get(url).status_code == 200


def teacher_session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ended_for(user, reason: str) -> AuditEvent:
    return AuditEvent.objects.get(
        action="sessions_ended", target=user.username, details__reason=reason
    )


@pytest.fixture
def staff_client(huvudman_staff) -> Client:
    return verify_session(Client(), huvudman_staff)


@pytest.fixture
def admin_client(national_admin) -> Client:
    return verify_session(Client(), national_admin)


def principal_url(user, action: str) -> str:
    return f"/huvudman/schools/principal/{user.pk}/{action}/"


def test_a_raised_epoch_ends_a_session_even_if_its_row_survives(principal):
    """The epoch, not the row deletion, is what makes the end final: a
    session row that escaped deletion (say, one being saved at that very
    moment) is refused all the same."""
    client = verify_session(Client(), principal)
    row = Session.objects.get()
    access_end(users=[principal], context=AuditContext.system(), reason="test")
    assert not Session.objects.exists()
    Session.objects.create(
        session_key=row.session_key, session_data=row.session_data, expire_date=row.expire_date
    )
    assert not logged_in(client, ETJANSTER)


def test_the_same_password_set_again_does_not_revive_a_session(principal):
    client = verify_session(Client(), principal)
    password = User.objects.get(pk=principal.pk).password
    access_end(users=[principal], context=AuditContext.system(), reason="test")
    User.objects.filter(pk=principal.pk).update(password=password)
    assert not logged_in(client, ETJANSTER)
    # A new login works as usual.
    assert logged_in(verify_session(Client(), User.objects.get(pk=principal.pk)), ETJANSTER)


def test_an_account_that_never_lost_access_keeps_its_sessions(principal, teacher):
    client = verify_session(Client(), principal)
    access_end(users=[teacher], context=AuditContext.system(), reason="test")
    assert logged_in(client, ETJANSTER)


# --- Principals, by huvudman staff in /huvudman/ --------------------------------------


def test_principal_deactivated_and_reactivated_keeps_no_old_session(staff_client, principal):
    session = verify_session(Client(), principal)
    staff_client.post(principal_url(principal, "deactivate"), CONFIRM)
    assert not logged_in(session, ETJANSTER)
    staff_client.post(principal_url(principal, "reactivate"), CONFIRM)
    assert User.objects.get(pk=principal.pk).is_active
    assert not logged_in(session, ETJANSTER)
    assert ended_for(principal, "deactivated").details["sessions"] == 1


def test_principal_given_a_new_password_keeps_no_old_session(staff_client, principal):
    session = verify_session(Client(), principal)
    staff_client.post(principal_url(principal, "regenerate"), {"password": "on", **CONFIRM})
    assert not logged_in(session, ETJANSTER)
    assert ended_for(principal, "password_replaced")


def test_principal_given_a_new_card_keeps_no_old_session(staff_client, principal):
    session = verify_session(Client(), principal)
    staff_client.post(principal_url(principal, "regenerate"), {"card": "on", **CONFIRM})
    assert not logged_in(session, ETJANSTER)
    assert ended_for(principal, "card_replaced")


def test_principal_unlinked_from_a_school_keeps_no_old_session(staff_client, principal, gymnasium):
    session = verify_session(Client(), principal)
    staff_client.post(principal_url(principal, "unlink"), {"school_unit": gymnasium.pk, **CONFIRM})
    assert not PrincipalAssignment.objects.filter(user=principal, school_unit=gymnasium).exists()
    assert not logged_in(session, ETJANSTER)
    assert ended_for(principal, "unlinked").school_unit == gymnasium


# --- Test administrators, by their principal in E-tjänster ---------------------------


def appointment_url(school, user, action: str) -> str:
    return f"/e-tjanster/skolor/{school.code}/provadministratorer/{user.username}/{action}/"


def test_test_admin_deactivated_and_reactivated_keeps_no_old_session(
    principal_client, test_admin, grundskola
):
    """The issue's case: deactivate → reactivate, and the session opened
    before still opened /e-tjanster/."""
    session = verify_session(Client(), test_admin)
    assert logged_in(session, ETJANSTER)
    principal_client.post(appointment_url(grundskola, test_admin, "inaktivera"), CONFIRM)
    assert not logged_in(session, ETJANSTER)
    principal_client.post(appointment_url(grundskola, test_admin, "ateraktivera"), CONFIRM)
    assert TestAdministrator.objects.get(user=test_admin).deactivated_at is None
    assert not logged_in(session, ETJANSTER)
    assert ended_for(test_admin, "deactivated").school_unit == grundskola
    # The same username, password and card log in afresh.
    assert logged_in(verify_session(Client(), User.objects.get(pk=test_admin.pk)), ETJANSTER)


def test_test_admin_given_a_new_password_keeps_no_old_session(
    principal_client, test_admin, grundskola
):
    session = verify_session(Client(), test_admin)
    principal_client.post(appointment_url(grundskola, test_admin, "losenord"), CONFIRM)
    assert not logged_in(session, ETJANSTER)


def test_test_admin_given_a_new_card_keeps_no_old_session(principal_client, test_admin, grundskola):
    session = verify_session(Client(), test_admin)
    principal_client.post(appointment_url(grundskola, test_admin, "kort"), CONFIRM)
    assert not logged_in(session, ETJANSTER)
    assert ended_for(test_admin, "card_replaced")


# --- Teachers, by their principal in E-tjänster ---------------------------------------


def teacher_url(school, user, action: str) -> str:
    return f"/e-tjanster/skolor/{school.code}/larare/{user.username}/{action}/"


def test_teacher_removed_from_one_of_two_schools_keeps_no_old_session(
    principal_client, teacher, grundskola, other_school
):
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    session = teacher_session(teacher)
    principal_client.post(teacher_url(grundskola, teacher, "ta-bort"), CONFIRM)
    assert User.objects.filter(pk=teacher.pk).exists()
    assert not logged_in(session, PORTAL_ACCOUNT)
    assert ended_for(teacher, "removed").school_unit == grundskola


def test_teacher_removed_from_the_last_school_is_closed_with_its_sessions(
    principal_client, teacher, grundskola
):
    session = teacher_session(teacher)
    principal_client.post(teacher_url(grundskola, teacher, "ta-bort"), CONFIRM)
    assert not User.objects.get(pk=teacher.pk).is_active
    assert not Session.objects.filter(session_key=session.session.session_key).exists()
    assert not logged_in(session, PORTAL_ACCOUNT)


def test_teacher_removed_on_the_new_school_year_page_keeps_no_old_session(
    principal_client, teacher, grundskola, other_school
):
    import time_machine

    Membership.objects.filter(user=teacher).update(valid_until=datetime.date(2026, 7, 31))
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    session = teacher_session(teacher)
    with time_machine.travel(datetime.datetime(2026, 11, 28, 12, tzinfo=STOCKHOLM)):
        principal_client.post(
            f"/e-tjanster/skolor/{grundskola.code}/nytt-lasar/", {"remove_unkept": "on", **CONFIRM}
        )
    assert not Membership.objects.live().filter(user=teacher, school_unit=grundskola).exists()
    assert not logged_in(session, PORTAL_ACCOUNT)


def test_teacher_given_a_new_password_keeps_no_old_session(principal_client, teacher, grundskola):
    session = teacher_session(teacher)
    principal_client.post(teacher_url(grundskola, teacher, "losenord"), CONFIRM)
    assert not logged_in(session, PORTAL_ACCOUNT)
    assert ended_for(teacher, "password_replaced").school_unit == grundskola


# --- One's own password --------------------------------------------------------------


def test_teacher_changing_the_password_ends_the_other_sessions_but_not_this_one(teacher):
    here, elsewhere = teacher_session(teacher), teacher_session(teacher)
    response = here.post(
        PORTAL_ACCOUNT,
        {
            "old_password": "larare-password-1234",
            "new_password1": "ett-nytt-langt-losenord-77",
            "new_password2": "ett-nytt-langt-losenord-77",
        },
    )
    assert response.status_code == 302
    assert logged_in(here, PORTAL_ACCOUNT)
    assert not logged_in(elsewhere, PORTAL_ACCOUNT)
    assert ended_for(teacher, "password_changed").details["sessions"] == 1


def test_principal_changing_the_password_in_my_account_ends_the_other_sessions(principal):
    here, elsewhere = verify_session(Client(), principal), verify_session(Client(), principal)
    response = here.post(
        "/e-tjanster/mitt-konto/",
        {
            "old_password": "rektor-password-1234",
            "new_password1": "ett-nytt-langt-losenord-77",
            "new_password2": "ett-nytt-langt-losenord-77",
        },
    )
    assert response.status_code == 302
    assert logged_in(here, ETJANSTER)
    assert not logged_in(elsewhere, ETJANSTER)


# --- National admins in /admin/ --------------------------------------------------------


def admin_change(admin_client, user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "huvudman": user.huvudman_id or "",
        "is_active": "on" if user.is_active else "",
        **changes,
    }
    data = {key: value for key, value in data.items() if value != ""}
    return admin_client.post(f"/admin/accounts/user/{user.pk}/change/", data)


def test_admin_site_active_switch_off_and_on_keeps_no_old_session(admin_client, principal):
    """The issue's case through /admin/: "Aktiv" off, then on again."""
    session = verify_session(Client(), principal)
    response = admin_change(admin_client, principal, is_active="")
    assert response.status_code == 302
    assert not User.objects.get(pk=principal.pk).is_active
    assert not logged_in(session, ETJANSTER)
    admin_change(admin_client, User.objects.get(pk=principal.pk), is_active="on")
    assert User.objects.get(pk=principal.pk).is_active
    assert not logged_in(session, ETJANSTER)
    assert AuditEvent.objects.filter(action="account_deactivated", target=principal.username)
    assert AuditEvent.objects.filter(action="account_reactivated", target=principal.username)


def test_admin_site_deactivating_a_teacher_ends_its_sessions(admin_client, teacher):
    session = teacher_session(teacher)
    admin_change(admin_client, teacher, is_active="")
    assert not logged_in(session, PORTAL_ACCOUNT)


def test_admin_site_role_change_keeps_no_old_session(admin_client, huvudman_staff):
    session = verify_session(Client(), huvudman_staff)
    assert logged_in(session, "/huvudman/")
    response = admin_change(admin_client, huvudman_staff, role=Role.NATIONAL_ADMIN, huvudman="")
    assert response.status_code == 302
    changed = User.objects.get(pk=huvudman_staff.pk)
    assert (changed.role, changed.huvudman, changed.is_superuser) == (
        Role.NATIONAL_ADMIN,
        None,
        True,
    )
    assert not logged_in(session, "/huvudman/")
    assert not logged_in(session, "/admin/")
    assert ended_for(changed, "role_changed")


def test_admin_site_move_to_another_huvudman_keeps_no_old_session(
    admin_client, huvudman_staff, other_huvudman
):
    session = verify_session(Client(), huvudman_staff)
    admin_change(admin_client, huvudman_staff, huvudman=other_huvudman.pk)
    assert User.objects.get(pk=huvudman_staff.pk).huvudman == other_huvudman
    assert not logged_in(session, "/huvudman/")


def test_admin_site_new_password_keeps_no_old_session(admin_client, principal, huvudman_staff):
    principal_session = verify_session(Client(), principal)
    staff_session = verify_session(Client(), huvudman_staff)
    admin_client.post(f"/admin/accounts/user/{principal.pk}/password/")
    admin_client.post(f"/admin/accounts/user/{huvudman_staff.pk}/password/")
    assert not logged_in(principal_session, ETJANSTER)
    assert not logged_in(staff_session, "/huvudman/")
    # The staff member's authenticator app went with it: enrol again.
    assert not TOTPDevice.objects.filter(user=huvudman_staff).exists()
    assert User.objects.get(pk=huvudman_staff.pk).onboarding_until is not None


def test_enroll_totp_command_replacing_a_device_keeps_no_old_session(huvudman_staff):
    session = verify_session(Client(), huvudman_staff)
    call_command("enroll_totp", huvudman_staff.username, "--json", stdout=StringIO())
    assert not logged_in(session, "/huvudman/")
    assert ended_for(huvudman_staff, "totp_replaced")
