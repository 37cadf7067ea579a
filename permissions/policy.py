"""The one access policy: every rule about who may see or change what.

Plain keyword-only functions. Views, templates (through the view), admin
sites and commands call these; nothing restates a rule elsewhere. The caller
reads the clock once (`permissions.schoolyear.today()`) and passes `today`.
"""

import datetime

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from permissions.models import AuditEvent, Membership, SubjectGrant, TestAdministrator
from permissions.schoolyear import school_year_end, school_year_start
from schools.models import Huvudman, PrincipalAssignment, SchoolUnit


def etjanster_school_units(*, user: User, today: datetime.date) -> QuerySet[SchoolUnit]:
    """The school units this user administers in E-tjänster.

    A principal: every linked unit. A test administrator: its own unit, while
    its appointment is active for the current school year. Anyone else: none.
    SECURITY: every E-tjänster lookup of a school starts from this queryset,
    so a unit outside it is a 404, also by a guessed skolenhetskod.
    """
    units = SchoolUnit.objects.select_related("huvudman").order_by("name")
    if not user.is_authenticated or not user.is_active:
        return units.none()
    if user.role == Role.PRINCIPAL:
        return units.filter(principal_assignments__user=user)
    if user.role == Role.TEST_ADMIN:
        return units.filter(
            test_administrators__user=user,
            test_administrators__deactivated_at__isnull=True,
            test_administrators__valid_until__gte=today,
        )
    return units.none()


def can_use_national_admin(*, user: User) -> bool:
    return user.is_active and user.role == Role.NATIONAL_ADMIN


# --- Huvudman staff at /huvudman/ -------------------------------------------
#
# SECURITY: staff hold no Django model permissions; the /huvudman/ admin site
# asks these functions instead, and every queryset it shows starts from one of
# them, so another huvudman's objects are 404 also by a guessed id.


def huvudman_of_staff(*, user: User) -> Huvudman | None:
    """The huvudman an active staff member manages, or None for anyone else."""
    if not user.is_authenticated or not user.is_active or user.role != Role.HUVUDMAN_STAFF:
        return None
    return user.huvudman


def can_use_huvudman_site(*, user: User) -> bool:
    return huvudman_of_staff(user=user) is not None


def huvudman_school_units(*, user: User) -> QuerySet[SchoolUnit]:
    """The school units huvudman staff manage: every unit of their huvudman."""
    huvudman = huvudman_of_staff(user=user)
    units = SchoolUnit.objects.select_related("huvudman").order_by("name")
    if huvudman is None:
        return units.none()
    return units.filter(huvudman=huvudman)


def huvudman_principals(*, user: User) -> QuerySet[User]:
    """Principals linked to at least one unit of the staff member's huvudman."""
    huvudman = huvudman_of_staff(user=user)
    principals = User.objects.filter(role=Role.PRINCIPAL).order_by("last_name", "first_name", "pk")
    if huvudman is None:
        return principals.none()
    linked = PrincipalAssignment.objects.filter(user=OuterRef("pk"), school_unit__huvudman=huvudman)
    # EXISTS instead of a join, so a principal of two units appears once.
    return principals.filter(Exists(linked))


def can_manage_huvudman(*, user: User, huvudman: Huvudman) -> bool:
    own = huvudman_of_staff(user=user)
    return own is not None and own.pk == huvudman.pk


def can_manage_school_unit(*, user: User, school_unit: SchoolUnit) -> bool:
    own = huvudman_of_staff(user=user)
    return own is not None and school_unit.huvudman_id == own.pk


def can_manage_principal(*, user: User, principal: User) -> bool:
    """Staff manage a principal linked to any unit of their huvudman: issue
    credentials again, unlock the card, deactivate, link and unlink."""
    return (
        principal.role == Role.PRINCIPAL
        and huvudman_principals(user=user).filter(pk=principal.pk).exists()
    )


def huvudman_audit_events(*, user: User) -> QuerySet[AuditEvent]:
    """The audit log huvudman staff see: every event of their huvudman."""
    huvudman = huvudman_of_staff(user=user)
    events = AuditEvent.objects.select_related("school_unit")
    if huvudman is None:
        return events.none()
    return events.filter(huvudman=huvudman)


# --- E-tjänster: school administration -------------------------------------------


class MembershipState(models.TextChoices):
    """What a principal sees about a membership in the teacher list."""

    ACTIVE = "active", _("Active")
    AWAITING_REACTIVATION = "awaiting_reactivation", _("Awaiting reactivation")
    NO_SUBJECTS = "no_subjects", _("No subjects")


def membership_state(*, valid_until: datetime.date, subject_count: int, today: datetime.date):
    """Expiry wins over a missing subject: the expired teacher sees nothing
    protected either way, and reactivation is what the principal must do first."""
    if valid_until < today:
        return MembershipState.AWAITING_REACTIVATION
    if subject_count == 0:
        return MembershipState.NO_SUBJECTS
    return MembershipState.ACTIVE


def memberships_in_state(
    *, memberships: QuerySet[Membership], state: str, today: datetime.date
) -> QuerySet[Membership]:
    """The same rule as `membership_state`, as a queryset filter."""
    has_subjects = Exists(SubjectGrant.objects.filter(membership=OuterRef("pk")))
    if state == MembershipState.AWAITING_REACTIVATION:
        return memberships.filter(valid_until__lt=today)
    if state == MembershipState.NO_SUBJECTS:
        return memberships.filter(~has_subjects, valid_until__gte=today)
    if state == MembershipState.ACTIVE:
        return memberships.filter(has_subjects, valid_until__gte=today)
    return memberships


def school_memberships(*, school_unit: SchoolUnit) -> QuerySet[Membership]:
    """The live (not removed) memberships of one school unit.

    SECURITY: the only way views reach memberships, always below a school unit
    that came from `etjanster_school_units`.
    """
    return Membership.objects.filter(school_unit=school_unit, removed_at__isnull=True)


def can_remove_membership(*, user: User, school_unit: SchoolUnit) -> bool:
    """Only a principal removes teachers; a test administrator may not (SPEC)."""
    return user.is_active and user.role == Role.PRINCIPAL


def can_manage_test_admins(*, user: User, school_unit: SchoolUnit) -> bool:
    """Only a principal appoints and manages test administrators (SPEC)."""
    return user.is_active and user.role == Role.PRINCIPAL


def reactivation_is_open(*, valid_until: datetime.date, today: datetime.date) -> bool:
    """A membership (or test administrator appointment) may be reactivated
    exactly when its validity ended before the current school year began.

    Validity always ends on a 31 July, so a membership of the school year
    2025/26 (valid until 31 July 2026) is still valid on 31 July 2026 23:59
    Stockholm time — there is nothing to reactivate — and may be reactivated
    from 1 August 2026 00:00, when `today` (a Stockholm date) turns over.
    """
    return valid_until < school_year_start(today)


def reactivated_until(*, today: datetime.date) -> datetime.date:
    """Reactivation and registration last to the end of the current school year."""
    return school_year_end(today)


def test_admin_state(*, appointment: TestAdministrator, today: datetime.date) -> str:
    if appointment.deactivated_at is not None:
        return "deactivated"
    if appointment.valid_until < today:
        return "awaiting_reactivation"
    return "active"


def test_admins_with_locked_card(*, appointments: QuerySet[TestAdministrator]):
    """Annotate `card_locked`: the appointment's card is locked after wrong answers."""
    from accounts.models import CardState, MatrixCardDevice

    locked = MatrixCardDevice.objects.filter(user=OuterRef("user"), state=CardState.LOCKED)
    return appointments.annotate(card_locked=Exists(locked))


def test_admins_needing_attention(
    *, appointments: QuerySet[TestAdministrator], today: datetime.date
) -> QuerySet[TestAdministrator]:
    """What the principal should act on: expired (awaiting reactivation),
    deactivated, or locked out by its card."""
    from accounts.models import CardState, MatrixCardDevice

    locked = MatrixCardDevice.objects.filter(user=OuterRef("user"), state=CardState.LOCKED)
    return appointments.filter(
        Q(valid_until__lt=today) | Q(deactivated_at__isnull=False) | Exists(locked)
    )
