"""A principal's handover of a school: the page and its tagged PDF, and the
taking over of a school in /huvudman/ that leads the newcomer to it."""

import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from audit.models import AuditEvent
from core.models import OutboxMessage
from permissions.models import Membership
from schools.models import PrincipalAssignment
from tests.conftest import END_OF_YEAR, deliver_mail, make_user, verify_session
from tests.fixtures.staff import make_teachers


def url(school, rest="", lang="/en") -> str:
    return f"{lang}/e-tjanster/skolor/{school.code}/overlamning/{rest}"


def test_the_handover_names_teachers_subjects_admins_pending_and_the_last_month(
    principal_client, principal, grundskola, teacher, test_admin, other_school
):
    elsewhere = make_user("delad", Role.TEACHER)
    Membership.objects.create(user=elsewhere, school_unit=other_school, valid_until=END_OF_YEAR)
    Membership.objects.create(
        user=elsewhere,
        school_unit=grundskola,
        valid_until=END_OF_YEAR,
        confirmed_at=None,
        typed_first_name="Delad",
        typed_last_name="Lärare",
    )
    with time_machine.travel(timezone.now() - datetime.timedelta(days=40)):
        audit_record(
            action=AuditAction.LOG_EXPORTED,
            context=AuditContext(actor=principal),
            school_unit=grundskola,
            target="old-event",
        )
    audit_record(
        action=AuditAction.LOG_EXPORTED,
        context=AuditContext(actor=principal),
        school_unit=grundskola,
        target="new-event",
    )
    response = principal_client.get(url(grundskola))
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert teacher.username in html
    assert "Matematik" in html  # the teacher's subjects
    assert test_admin.username in html
    assert "Delad Lärare" in html  # awaiting confirmation, by the name the school typed
    assert elsewhere.username not in html
    assert "new-event" in html and "old-event" not in html
    assert "31 July 2027: 1 teacher's membership ends" in html


def test_the_handover_pdf_is_tagged_and_its_printing_logged(principal_client, grundskola, teacher):
    response = principal_client.post(url(grundskola, "pdf/"))
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert bool(reader.trailer["/Root"]["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert teacher.username in text
    assert AuditEvent.objects.filter(
        action=AuditAction.HANDOVER_PRINTED, school_unit=grundskola
    ).exists()


def test_a_test_admin_is_refused_the_handover(test_admin_client, grundskola):
    assert test_admin_client.get(url(grundskola)).status_code == 403
    assert test_admin_client.post(url(grundskola, "pdf/")).status_code == 403


def test_another_school_is_not_found(principal_client, other_school):
    assert principal_client.get(url(other_school)).status_code == 404
    assert principal_client.post(url(other_school, "pdf/")).status_code == 404


def test_anonymous_is_sent_to_the_login(client, grundskola):
    response = client.get(url(grundskola, lang=""))
    assert response.status_code == 302
    assert response["Location"].startswith("/e-tjanster/logga-in/")


def test_the_school_menu_offers_the_handover_to_principals_only(
    principal_client, test_admin_client, grundskola
):
    teachers = f"/en/e-tjanster/skolor/{grundskola.code}/larare/"
    assert url(grundskola) in principal_client.get(teachers).content.decode()
    assert url(grundskola) not in test_admin_client.get(teachers).content.decode()


def test_the_handover_takes_as_many_queries_for_many_teachers(principal_client, grundskola):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            principal_client.get(url(grundskola))
        return len(queries)

    make_teachers(grundskola, 2)
    few = count()
    make_teachers(grundskola, 15, prefix="m")
    assert count() == few


# --- Taking over a school in /huvudman/ ------------------------------------------------


@pytest.fixture
def staff(client, huvudman_staff):
    return verify_session(client, huvudman_staff)


def test_a_new_principal_takes_over_and_both_are_told_who_did_it(
    staff, huvudman_staff, principal, grundskola, gymnasium, huvudman, mailoutbox
):
    newcomer = make_user("nyrektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=newcomer, school_unit=gymnasium)
    staff.post(
        f"/huvudman/schools/principal/{newcomer.pk}/link/",
        {"school_unit": grundskola.pk, "replaces": "on"},
    )
    # The outgoing principal still leads the gymnasium, so only the link ends.
    assert not PrincipalAssignment.objects.filter(user=principal, school_unit=grundskola).exists()
    principal.refresh_from_db()
    assert principal.is_active
    ended = AuditEvent.objects.get(action=AuditAction.PRINCIPAL_UNLINKED, school_unit=grundskola)
    assert ended.actor_username == huvudman_staff.username
    assert ended.details == {"replaced_by": newcomer.username}
    deliver_mail()
    by_address = {mail.to[0]: mail for mail in mailoutbox}
    assert f"/e-tjanster/skolor/{grundskola.code}/overlamning/" in by_address[newcomer.email].body
    assert huvudman_staff.get_full_name() in by_address[principal.email].body
    # The newcomer's log at the school shows who did it.
    log = verify_session(Client(), newcomer).get(f"/en/e-tjanster/skolor/{grundskola.code}/logg/")
    assert huvudman_staff.get_full_name() in log.content.decode()


def test_an_outgoing_principal_of_that_school_only_is_deactivated(
    staff, grundskola, gymnasium, mailoutbox
):
    outgoing = make_user("gammal", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=outgoing, school_unit=grundskola)
    newcomer = make_user("ny", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=newcomer, school_unit=gymnasium)
    staff.post(
        f"/huvudman/schools/principal/{newcomer.pk}/link/",
        {"school_unit": grundskola.pk, "replaces": "on"},
    )
    outgoing.refresh_from_db()
    assert not outgoing.is_active
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_DEACTIVATED, target="gammal")
    assert event.school_unit == grundskola
    assert event.details["replaced_by"] == "ny"
    assert OutboxMessage.objects.count() == 2


def test_linking_without_taking_over_changes_no_one_else(staff, principal, grundskola, gymnasium):
    newcomer = make_user("ny", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=newcomer, school_unit=gymnasium)
    staff.post(f"/huvudman/schools/principal/{newcomer.pk}/link/", {"school_unit": grundskola.pk})
    assert PrincipalAssignment.objects.filter(user=principal, school_unit=grundskola).exists()
    assert OutboxMessage.objects.count() == 0
