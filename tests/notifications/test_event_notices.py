"""Notices of events in the layers below: a locked card, a teacher's answer
to a school's registration. Queued in the event's transaction, composed by
the mail worker, one mail a person, and nothing lost while mail is down."""

import smtplib

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from accounts.models import Role
from accounts.services.cards import card_issue
from audit.context import AuditContext
from core.models import OutboxMessage, OutboxStatus
from core.outbox import outbox_send_due
from notifications.models import NotificationKind, NotificationSetting
from permissions.models import EmailCode, Membership
from permissions.schoolyear import today
from permissions.services.codes import email_code_digest
from permissions.services.confirmations import email_code_redeem
from permissions.services.memberships import membership_register
from schools.models import PrincipalAssignment
from tests.conftest import make_user, verify_session
from tests.fixtures import cards


def lock_card(user) -> None:
    """Five wrong answers in a row at the holder's (new) card."""
    card_issue(user=user, context=AuditContext.system())
    cards.lock_card(user)


pytestmark = pytest.mark.django_db


def sent_to() -> dict[str, str]:
    """Address → subject of every mail the worker sent."""
    return {message.to[0]: message.subject for message in mail.outbox}


def test_a_test_administrators_locked_card_is_told_to_the_schools_principals(
    principal, test_admin, gymnasium
):
    other_principal = make_user("rektor2", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=other_principal, school_unit=gymnasium)
    lock_card(test_admin)
    outbox_send_due()
    # The principal of the test administrator's school only, one mail each.
    assert list(sent_to()) == [principal.email]
    [message] = mail.outbox
    assert "Provadmin Testsson" in message.subject
    assert "/e-tjanster/skolor/11111111/provadministratorer/" in message.body


def test_a_principals_locked_card_is_told_to_the_huvudmans_staff_only(
    principal, huvudman_staff, other_staff
):
    second = make_user("personal2", Role.HUVUDMAN_STAFF, huvudman=huvudman_staff.huvudman)
    lock_card(principal)
    outbox_send_due()
    assert sorted(sent_to()) == sorted([huvudman_staff.email, second.email])
    assert all(f"/huvudman/schools/principal/{principal.pk}/" in m.body for m in mail.outbox)


def test_a_locked_card_keeps_the_holders_verified_sessions(client, principal, huvudman_staff):
    verify_session(client, principal)  # issues the card
    cards.lock_card(principal)
    # The product owner's decision: a lock is told, it logs nobody out.
    assert client.get("/e-tjanster/mitt-konto/").status_code == 200


def test_a_card_lock_notice_cannot_be_switched_off(principal, huvudman_staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationSetting.objects.create(
            user=huvudman_staff, kind=NotificationKind.CARD_LOCKED, enabled=False
        )


def _link(school, teacher):
    return membership_register(
        school_unit=school,
        context=AuditContext.system(),
        first_name="Lena",
        last_name="Länkad",
        email=teacher.email,
        subjects=[],
        today=today(),
    ).membership


def _redeem(teacher, membership, *, decline):
    code = "ABCD-EFGH"
    EmailCode.objects.filter(membership=membership).update(
        code_hash=email_code_digest(user_id=teacher.pk, code=code)
    )
    return email_code_redeem(
        username=teacher.username,
        code=code,
        new_password=None if decline else "ett-nytt-bra-losenord-77",
        decline=decline,
        context=AuditContext.system(),
    )


@pytest.mark.parametrize("decline", [False, True])
def test_a_teachers_answer_is_told_to_the_schools_principals_and_test_admins(
    teacher, principal, test_admin, gymnasium, decline
):
    membership = _link(gymnasium, teacher)
    outbox_send_due()  # the teacher's confirmation code
    mail.outbox.clear()
    _redeem(teacher, membership, decline=decline)
    outbox_send_due()
    # Gymnasiet's principal; the test administrator is at the other school.
    assert list(sent_to()) == [principal.email]
    # After a decline the school knows only the name it typed.
    name = "Lena Länkad" if decline else "Larare Testsson"
    assert name in mail.outbox[0].subject
    assert "/e-tjanster/skolor/22222222/larare/" in mail.outbox[0].body


def test_a_principal_who_switched_answers_off_gets_none(teacher, principal, gymnasium):
    NotificationSetting.objects.create(
        user=principal, kind=NotificationKind.LINK_ANSWERED, enabled=False
    )
    membership = _link(gymnasium, teacher)
    outbox_send_due()
    mail.outbox.clear()
    _redeem(teacher, membership, decline=False)
    report = outbox_send_due()
    assert mail.outbox == []
    assert report.discarded == 1


def test_a_rolled_back_lock_queues_no_notice(principal, huvudman_staff):
    with pytest.raises(RuntimeError), transaction.atomic():
        lock_card(principal)
        raise RuntimeError
    assert not OutboxMessage.objects.exists()


def test_a_notice_survives_a_mail_outage(principal, huvudman_staff, monkeypatch):
    lock_card(principal)

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    first = outbox_send_due()
    # Composed into one mail a person, which waits for its retry.
    assert (first.expanded, first.retried, first.sent) == (1, 1, 0)
    monkeypatch.undo()
    later = outbox_send_due(now=OutboxMessage.objects.get(status="queued").next_attempt_at)
    assert later.sent == 1
    assert sent_to() == {huvudman_staff.email: mail.outbox[0].subject}
    assert not OutboxMessage.objects.filter(status=OutboxStatus.QUEUED).exists()


def test_nobody_is_told_of_a_membership_gone_before_the_worker_ran(teacher, principal, gymnasium):
    membership = _link(gymnasium, teacher)
    outbox_send_due()
    _redeem(teacher, membership, decline=False)
    Membership.objects.filter(pk=membership.pk).delete()
    assert outbox_send_due().discarded == 1
