"""Test administrators (provadministratörer): appointed with a password and
a card, deactivated and reactivated, never deleted."""

import dataclasses
import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.services.access import access_end
from accounts.services.cards import card_issue
from accounts.usernames import generate_password, generate_username
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.refusals import RefusalCode, Refused
from permissions.models import TestAdministrator
from permissions.policy import (
    can_deactivate_test_admin,
    can_reactivate_test_admin,
    reactivated_until,
)
from permissions.services.memberships import serialize_by_email
from permissions.services.school_year import refuse_unless_reactivation_open
from schools.models import SchoolUnit


@dataclasses.dataclass(frozen=True)
class TestAdminIssue:
    appointment: TestAdministrator
    password: str
    # accounts.services.cards.IssuedCard: the card's cells, shown (printed) once.
    card: object


@transaction.atomic
def test_admin_issue(
    *,
    school_unit: SchoolUnit,
    context: AuditContext,
    first_name: str,
    last_name: str,
    email: str,
    today: datetime.date,
) -> TestAdminIssue:
    """A new provadministratör at one school: account, password and matrix
    card, valid to the end of the school year.

    One account per person and school: an address that already has a test
    administrator here (active or deactivated) is refused, so a double click
    or a reloaded result page cannot leave a second account behind, which,
    like every test administrator, could never be deleted.
    """
    serialize_by_email(email.strip())
    already = (
        TestAdministrator.objects.filter(school_unit=school_unit, user__email__iexact=email.strip())
        .select_related("user")
        .first()
    )
    if already is not None:
        raise Refused(
            RefusalCode.ALREADY_TEST_ADMIN,
            email=already.user.email,
            username=already.user.username,
        )
    password = generate_password()
    user = User.objects.create_user(
        username=generate_username(),
        password=password,
        role=Role.TEST_ADMIN,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
    )
    appointment = TestAdministrator.objects.create(
        user=user, school_unit=school_unit, valid_until=reactivated_until(today=today)
    )
    card = card_issue(user=user, context=context)
    audit_record(
        action=AuditAction.TEST_ADMIN_ISSUED,
        context=context,
        school_unit=school_unit,
        target=user.username,
        details={"valid_until": appointment.valid_until.isoformat()},
    )
    return TestAdminIssue(appointment=appointment, password=password, card=card)


@transaction.atomic
def test_admin_deactivate(*, appointment: TestAdministrator, context: AuditContext) -> None:
    """SECURITY: the only way to end a test administrator's access. The
    account stays (PROTECT) so that what it did stays attributable; its
    sessions end for good (`access_end`), so a reactivation revives none."""
    if not can_deactivate_test_admin(appointment=appointment):
        raise Refused(RefusalCode.ALREADY_DEACTIVATED)
    appointment.deactivated_at = timezone.now()
    appointment.save(update_fields=["deactivated_at"])
    User.objects.filter(pk=appointment.user_id).update(is_active=False)
    access_end(
        users=[appointment.user],
        context=context,
        reason="deactivated",
        school_unit=appointment.school_unit,
    )
    audit_record(
        action=AuditAction.TEST_ADMIN_DEACTIVATED,
        context=context,
        school_unit=appointment.school_unit,
        target=appointment.user.username,
    )


@transaction.atomic
def test_admin_reactivate(
    *, appointment: TestAdministrator, context: AuditContext, today: datetime.date
) -> None:
    """Undo a deactivation, or renew for the new school year (from 1 August).
    Either way valid to the end of the current school year."""
    if not can_reactivate_test_admin(appointment=appointment, today=today):
        refuse_unless_reactivation_open(valid_until=appointment.valid_until, today=today)
    appointment.deactivated_at = None
    appointment.valid_until = reactivated_until(today=today)
    appointment.save(update_fields=["deactivated_at", "valid_until"])
    User.objects.filter(pk=appointment.user_id).update(is_active=True)
    audit_record(
        action=AuditAction.TEST_ADMIN_REACTIVATED,
        context=context,
        school_unit=appointment.school_unit,
        target=appointment.user.username,
        details={"valid_until": appointment.valid_until.isoformat()},
    )
