"""E-tjänster: what a principal or test administrator may see and do at a
school unit."""

import datetime

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.models import CardState, MatrixCardDevice, Role, User
from audit.models import AuditEvent
from core.refusals import RefusalCode
from permissions.models import LevelPolicy, Membership, SubjectGrant, TestAdministrator
from permissions.schoolyear import school_year_end, school_year_start
from schools.models import SchoolUnit


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


# --- E-tjänster: school administration -------------------------------------------


class MembershipState(models.TextChoices):
    """What a principal sees about a membership in the teacher list."""

    ACTIVE = "active", _("Active")
    AWAITING_REACTIVATION = "awaiting_reactivation", _("Awaiting reactivation")
    NO_SUBJECTS = "no_subjects", _("No subjects")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting the teacher's confirmation")


def membership_state(
    *,
    valid_until: datetime.date,
    subject_count: int,
    today: datetime.date,
    pending: bool = False,
):
    """A membership waiting for its teacher's confirmation grants nothing
    whatever else holds, so that comes first. Expiry wins over a missing
    subject: the expired teacher sees nothing protected either way, and
    reactivation is what the principal must do first."""
    if pending:
        return MembershipState.AWAITING_CONFIRMATION
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
    if state == MembershipState.AWAITING_CONFIRMATION:
        return memberships.pending()
    if state == MembershipState.AWAITING_REACTIVATION:
        return memberships.expired_on(today)
    if state == MembershipState.NO_SUBJECTS:
        return memberships.valid_on(today).filter(~has_subjects)
    if state == MembershipState.ACTIVE:
        return memberships.valid_on(today).filter(has_subjects)
    return memberships


def school_memberships(*, school_unit: SchoolUnit) -> QuerySet[Membership]:
    """The live (not removed) memberships of one school unit.

    SECURITY: the only way views reach memberships, always below a school unit
    that came from `etjanster_school_units`.
    """
    return Membership.objects.live().filter(school_unit=school_unit)


def slip_memberships(*, school_unit: SchoolUnit) -> QuerySet[Membership]:
    """The memberships a school may print a slip (username, school, validity)
    for: confirmed ones. A registration still waiting is for an account the
    teacher already has, and the school has not been shown to know it."""
    return school_memberships(school_unit=school_unit).confirmed()


def school_test_admins(*, school_unit: SchoolUnit) -> QuerySet[TestAdministrator]:
    """The test administrator appointments of one school unit, active or not.

    SECURITY: the only way E-tjänster's views reach appointments, always
    below a school unit that came from `etjanster_school_units`.
    """
    return TestAdministrator.objects.filter(school_unit=school_unit)


def school_events(*, school_unit: SchoolUnit) -> QuerySet[AuditEvent]:
    """The school's log: its audit events (SPEC: principals see their schools'
    log; a test administrator may do all a principal may at the school except
    what `can_remove_membership` and `can_manage_test_admins` keep back).

    SECURITY: only below a school unit from `etjanster_school_units`.
    """
    return AuditEvent.objects.filter(school_unit=school_unit)


def levels_reached_by(*, school_unit: SchoolUnit) -> frozenset[str]:
    """The material levels this school's forms reach, from the access-policy table.

    Condition 3 of the gate, asked in advance: the registration form offers
    these levels' subjects first (a grant in another level opens nothing here).
    """
    return frozenset(
        LevelPolicy.objects.filter(school_form__school_units=school_unit).values_list(
            "level", flat=True
        )
    )


def can_remove_membership(*, user: User, school_unit: SchoolUnit) -> bool:
    """Only a principal removes teachers; a test administrator may not (SPEC)."""
    return user.is_active and user.role == Role.PRINCIPAL


# A membership removed (not the account's last) can be restored this long.
RESTORE_WINDOW = datetime.timedelta(days=30)


def can_restore_membership(*, user: User, school_unit: SchoolUnit) -> bool:
    """Undoing a removal is for whoever may remove: the principal."""
    return can_remove_membership(user=user, school_unit=school_unit)


def restorable_memberships(
    *, school_unit: SchoolUnit, now: datetime.datetime
) -> QuerySet[Membership]:
    """Memberships of this school removed less than RESTORE_WINDOW ago whose
    account still exists and has no live membership here again. A removed
    last membership left the account "borttagen" (inactive) for as long:
    restoring it brings the account back too.

    Only confirmed ones: a link by e-mail the teacher declined, or the school
    withdrew before the teacher confirmed, is registered again (with a new
    code to the teacher), never brought back past the teacher's decision.
    """
    live_again = Membership.objects.live().filter(school_unit=school_unit, user=OuterRef("user"))
    return (
        Membership.objects.filter(
            school_unit=school_unit,
            removed_at__isnull=False,
            removed_at__gte=now - RESTORE_WINDOW,
            confirmed_at__isnull=False,
        )
        # The account lives on at other schools, or waits as removed
        # ("borttagen") for its deletion: restoring brings it back.
        .filter(Q(user__is_active=True) | Q(user__removed_at__isnull=False))
        .exclude(Exists(live_again))
    )


def restorable_removed_accounts(
    *, school_unit: SchoolUnit, now: datetime.datetime, emails
) -> QuerySet[Membership]:
    """`restorable_memberships` of removed ("borttagen") accounts with one of
    these addresses: registering such an address here is refused with a
    pointer to "Återställ" (no school links a removed account by e-mail)."""
    lowered = sorted({email.strip().lower() for email in emails})
    return (
        restorable_memberships(school_unit=school_unit, now=now)
        .filter(user__removed_at__isnull=False)
        .annotate(email_lower=Lower("user__email"))
        .filter(email_lower__in=lowered)
    )


def can_regenerate_teacher_password(
    *, user: User, membership: Membership, today: datetime.date
) -> bool:
    """Whether `user` may set (and read) a new password for the teacher of `membership`.

    SECURITY: one teacher account is shared by every school the teacher is
    registered at, and linking an existing account needs only its e-mail
    address. So a new password — which lets whoever reads it log in as the
    teacher and open what *other* schools granted — is only for someone who
    administers every school the account is a confirmed member of. Anyone
    else sends the teacher to a principal (or support) who does.

    A registration still waiting at another school does not count: it grants
    nothing there, and confirming it makes the teacher choose a new password
    (`services.email_code_redeem`), so a password read here never opens it.
    Else any school could take a school's right to reset its own teacher's
    password away by typing the teacher's address.
    """
    administered = etjanster_school_units(user=user, today=today).filter(
        pk=OuterRef("school_unit_id")
    )
    return (
        user.is_active
        and membership.removed_at is None
        # SECURITY: not before the teacher confirmed: until then this school
        # has not been shown to know the teacher at all.
        and membership.confirmed_at is not None
        and etjanster_school_units(user=user, today=today)
        .filter(pk=membership.school_unit_id)
        .exists()
        and not Membership.objects.confirmed()
        .filter(user_id=membership.user_id)
        .exclude(Exists(administered))
        .exists()
    )


def password_refusal(
    *, user: User, membership: Membership, today: datetime.date
) -> RefusalCode | None:
    """Why `can_regenerate_teacher_password` says no, for the page; None if it says yes."""
    if can_regenerate_teacher_password(user=user, membership=membership, today=today):
        return None
    if membership.confirmed_at is None:
        return RefusalCode.NOT_CONFIRMED
    if can_send_password_code(user=user, membership=membership, today=today):
        return RefusalCode.SHARED_ACCOUNT
    return RefusalCode.NOT_ALLOWED


def can_print_slip(*, membership: Membership) -> bool:
    """One membership by `slip_memberships`' rule: confirmed and live."""
    return membership.removed_at is None and membership.confirmed_at is not None


def can_send_password_code(*, user: User, membership: Membership, today: datetime.date) -> bool:
    """Whether `user` may have a code mailed to the teacher, with which the
    teacher chooses a new password themself.

    For the teacher of schools with different principals: no one principal
    may read a new password for the shared account
    (`can_regenerate_teacher_password`), but any of them may start this,
    since only whoever reads the account's e-mail can use the code.
    """
    return (
        user.is_active
        and membership.removed_at is None
        and membership.confirmed_at is not None
        and bool(membership.user.email)
        and etjanster_school_units(user=user, today=today)
        .filter(pk=membership.school_unit_id)
        .exists()
    )


def linkable_teacher_accounts(*, emails) -> QuerySet[User]:
    """Teacher accounts a school may link by typing their e-mail address.

    SECURITY: a principal's or test administrator's own teacher account
    ("Registrera mig som lärare") is never among them: it is reached only
    through its owner's E-tjänster account, so nobody can register a
    principal's address to link it, and a principal's self-registration
    never links somebody else's account. Linking an account found here
    grants nothing until its owner confirms
    (`permissions.services.memberships.memberships_register`).
    """
    lowered = sorted({email.strip().lower() for email in emails})
    return (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(
            role=Role.TEACHER,
            etjanster_owner__isnull=True,
            email_lower__in=lowered,
            # A removed account waiting for its deletion is nobody's to link:
            # only its own school brings it back (`restorable_memberships`).
            removed_at__isnull=True,
        )
        .order_by("pk")
    )


def can_export_teacher_data(*, user: User, school_unit: SchoolUnit) -> bool:
    """Only a principal exports a teacher's data on request (docs/privacy.md).

    Answering a data subject's request is the personal-data controller's
    business, which the principal handles for the huvudman; a test
    administrator runs the school's tests and registrations, not its data
    protection. The caller has already scoped `school_unit` to the user.
    """
    return user.is_active and user.role == Role.PRINCIPAL


def can_manage_test_admins(*, user: User, school_unit: SchoolUnit) -> bool:
    """Only a principal appoints and manages test administrators (SPEC)."""
    return user.is_active and user.role == Role.PRINCIPAL


def can_view_handover(*, user: User, school_unit: SchoolUnit) -> bool:
    """The handover is the principal's: a test administrator, who may see the
    school's pages, is not the one who hands the school over."""
    return user.is_active and user.role == Role.PRINCIPAL


def can_approve_ss12000(*, user: User, school_unit: SchoolUnit | None) -> bool:
    """The teachers a school system (SS 12000) proposes are the principal's to
    approve, and so is the school's "approve new teachers automatically": a
    test administrator does neither (nor removes teachers)."""
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


def can_reactivate_test_admin(*, appointment: TestAdministrator, today: datetime.date) -> bool:
    """A deactivated test administrator may be reactivated at any time; an
    active one only for a new school year, like a teacher's membership."""
    return appointment.deactivated_at is not None or reactivation_is_open(
        valid_until=appointment.valid_until, today=today
    )


def can_deactivate_test_admin(*, appointment: TestAdministrator) -> bool:
    return appointment.deactivated_at is None


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
    locked = MatrixCardDevice.objects.filter(user=OuterRef("user"), state=CardState.LOCKED)
    return appointments.annotate(card_locked=Exists(locked))


def test_admins_needing_attention(
    *, appointments: QuerySet[TestAdministrator], today: datetime.date
) -> QuerySet[TestAdministrator]:
    """What the principal should act on: expired (awaiting reactivation),
    deactivated, or locked out by its card."""
    locked = MatrixCardDevice.objects.filter(user=OuterRef("user"), state=CardState.LOCKED)
    return appointments.filter(
        Q(valid_until__lt=today) | Q(deactivated_at__isnull=False) | Exists(locked)
    )


def can_view_catalogue_as_teacher(
    *, user: User, membership: Membership, today: datetime.date
) -> bool:
    """A principal or test administrator of the membership's school (the
    caller found it through `etjanster_school_units`), for a teacher who has
    confirmed the membership: until then the school has not been shown to
    know the account."""
    return (
        membership.confirmed_at is not None
        and not membership.is_removed
        and etjanster_school_units(user=user, today=today)
        .filter(pk=membership.school_unit_id)
        .exists()
    )
