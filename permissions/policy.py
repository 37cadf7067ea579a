"""The one access policy: every rule about who may see or change what.

Plain keyword-only functions. Views, templates (through the view), admin
sites and commands call these; nothing restates a rule elsewhere. The caller
reads the clock once (`permissions.schoolyear.today()`) and passes `today`.
"""

import datetime
from dataclasses import dataclass, field
from typing import Protocol

from django.db import models
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Lower
from django.utils.translation import gettext_lazy as _

from accounts.doors import Door, door_of
from accounts.models import (
    ADMIN_ROLES,
    ETJANSTER_ROLES,
    MatrixCardDevice,
    Role,
    User,
)
from audit.models import AuditEvent
from core.refusals import RefusalCode
from permissions.models import (
    LevelPolicy,
    Membership,
    Subject,
    SubjectGrant,
    TestAdministrator,
    membership_confirmed_q,
    membership_valid_q,
)
from permissions.schoolyear import school_year_end, school_year_start
from schools.models import Huvudman, PrincipalAssignment, SchoolForm, SchoolUnit


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


# --- Login doors: which role uses which login, and when a session counts -------
#
# SECURITY: each role has exactly one door. E-tjänster takes the password and
# the matrix card, Bedömningsportalen the password, the two admin sites the
# password and a TOTP code. The login views, the decorators, the admin sites
# and the session middleware ask these functions; none restates the rule.


def can_use_etjanster(*, user: User) -> bool:
    """A principal or test administrator: the roles that log in to E-tjänster."""
    return bool(user.is_authenticated and user.is_active and user.role in ETJANSTER_ROLES)


def is_etjanster_verified(*, user: User) -> bool:
    """Past both E-tjänster factors: the password and this user's matrix card.

    Only the matrix card counts as the second factor here; a TOTP device is
    for the admin sites.
    """
    return bool(
        can_use_etjanster(user=user)
        and user.is_verified()
        and isinstance(user.otp_device, MatrixCardDevice)
    )


def is_etjanster_half_logged_in(*, user: User) -> bool:
    """Past the password of an E-tjänster account, not yet past its card."""
    return can_use_etjanster(user=user) and not is_etjanster_verified(user=user)


def can_use_portal(*, user: User) -> bool:
    """A teacher: the only role that logs in to Bedömningsportalen."""
    return bool(user.is_authenticated and user.is_active and user.role == Role.TEACHER)


def _admin_session_verified(user: User) -> bool:
    # SECURITY: a password alone is never enough on an admin site, nor a
    # one-time password before the enrolment is complete.
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.onboarding_until is None
        and user.is_verified()
    )


def admin_site_of_role(*, user: User) -> str | None:
    """Which admin site the account's role logs in to ("admin", "huvudman"), if any.

    By role alone, whether or not the account is active: the login uses it
    to tell a deactivated account so, after both factors were right.
    """
    door = door_of(user)
    return door if door in (Door.ADMIN, Door.HUVUDMAN) else None


def is_admin_enrolment_pending(*, user: User) -> bool:
    """Logged in with a one-time password: only the enrolment page opens.

    SECURITY: such a session is not verified by any device, so no admin
    site opens for it (`_admin_session_verified`), and E-tjänster and the
    portal are for other roles; it exists only to enrol an authenticator app
    and choose a password (`accounts.services.staff.admin_enrolment_complete`).
    """
    return bool(
        user.is_authenticated
        and user.is_active
        and user.role in ADMIN_ROLES
        and user.onboarding_until is not None
    )


def credentials_issuer(*, user: User) -> str:
    """Who issues this account a new password or card (the role one level up):
    "huvudman" for a principal, "principal" for a test administrator or a
    teacher, "national_admin" for the admin-site accounts."""
    if user.role == Role.PRINCIPAL:
        return "huvudman"
    if user.role in (Role.TEST_ADMIN, Role.TEACHER):
        return "principal"
    return "national_admin"


def etjanster_appointment_ended(*, user: User, today: datetime.date) -> bool:
    """A test administrator whose appointment was deactivated or has expired:
    the right password opens nothing, and the login says so."""
    if user.role != Role.TEST_ADMIN:
        return False
    appointment = TestAdministrator.objects.filter(user=user).first()
    return appointment is None or not appointment.is_valid_on(today)


def can_open_national_admin(*, user: User) -> bool:
    """/admin/: a national admin past the password and a TOTP code."""
    return _admin_session_verified(user) and can_use_national_admin(user=user)


def can_open_huvudman_site(*, user: User) -> bool:
    """/huvudman/: huvudman staff past the password and a TOTP code."""
    return _admin_session_verified(user) and can_use_huvudman_site(user=user)


def can_handle_support_tickets(*, user: User) -> bool:
    """Support tickets are worked by national admins in /admin/ (no separate
    support role: national admins are support today, and a new role would
    need its own door and second factor)."""
    return can_open_national_admin(user=user)


def support_handlers() -> QuerySet[User]:
    """Whom a ticket can be assigned to."""
    return User.objects.filter(role=Role.NATIONAL_ADMIN, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


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


# --- The name a school knows a teacher by ------------------------------------------------
#
# SECURITY: an e-mail address is all a school needs to link an existing
# account (`permissions.services.memberships_register`). Until the account's
# owner confirms the link, the school (and its huvudman) is shown the name it
# typed itself, never the one another school stored on the account: else
# typing an address would reveal the name behind it. A link never confirmed
# (withdrawn, declined) keeps the typed name in the school's history.
#
# One rule, over a scope of memberships (one membership; a school's; a
# huvudman's): a teacher who confirmed none of them is known by the name
# typed on the latest of them; otherwise by the account's own name. The
# national log has no scope and shows every account's own name. Four forms
# of it, kept side by side here: for one membership and for a scope, each
# in Python and in SQL. (Where they differ, by design: a school that had the
# teacher confirmed once, since removed, and now waits on a new link shows
# the typed name on the teacher's page, one membership, but the account's
# name in its log, whose scope includes the old confirmation: the school
# was shown that name then.)


def known_names(*, membership: Membership) -> tuple[str, str]:
    """(first, last): the rule for the scope of one membership, in Python."""
    if membership.confirmed_at is None:
        return membership.typed_first_name, membership.typed_last_name
    return membership.user.first_name, membership.user.last_name


def known_full_name(*, membership: Membership) -> str:
    """The same, as one string ("" when no name is known)."""
    return " ".join(name for name in known_names(membership=membership) if name)


def _known_name_sql(field: str) -> Case:
    return Case(
        When(confirmed_at__isnull=True, then=F(f"typed_{field}")), default=F(f"user__{field}")
    )


# The rule for the scope of one membership, in SQL, as annotations of
# memberships: a list can search and sort by them, and its pager's COUNT
# (which does not use them) joins no accounts.
KNOWN_NAMES = {
    "known_first_name": _known_name_sql("first_name"),
    "known_last_name": _known_name_sql("last_name"),
}


def known_name_scope(*, school_unit=None, huvudman=None) -> Q | None:
    """The memberships whose names a school's (or a huvudman's) log may
    show; None for the national log, which shows every account's own name."""
    if school_unit is not None:
        return Q(school_unit=school_unit)
    if huvudman is not None:
        return Q(school_unit__huvudman=huvudman)
    return None


def names_known_in(*, scope: Q | None, users: list[User]) -> dict[int, str]:
    """The rule for a scope, in Python, for a page of a log: the teachers
    among `users` who confirmed no membership in `scope`, each with the full
    name typed on the latest (or ""). Everyone else keeps their own. One query."""
    teachers = [user.pk for user in users if user.role == Role.TEACHER]
    if scope is None or not teachers:
        return {}
    names: dict[int, str] = {}
    confirmed: set[int] = set()
    rows = (
        Membership.objects.filter(scope, user_id__in=teachers)
        .order_by("created_at", "pk")
        .values_list("user_id", "confirmed_at", "typed_first_name", "typed_last_name")
    )
    for user_id, confirmed_at, first_name, last_name in rows:
        if confirmed_at is not None:
            confirmed.add(user_id)
        names[user_id] = " ".join(name for name in (first_name, last_name) if name)
    return {pk: names.get(pk, "") for pk in teachers if pk not in confirmed}


def full_name_known_in(*, scope: Q | None, **match) -> Expression:
    """The rule for a scope, in SQL: the full name of the account that
    `match` (lookups on User, with OuterRef) finds, as `scope` knows it. For
    lists that name people in a column, one correlated subquery per row."""
    name = Subquery(
        User.objects.filter(**match)
        .annotate(full_name=Concat("first_name", Value(" "), "last_name"))
        .values("full_name")[:1]
    )
    if scope is None:
        return name
    of_user = {f"user__{key}": value for key, value in match.items()}
    memberships = Membership.objects.filter(scope, **of_user)
    typed = Subquery(
        memberships.order_by("-created_at", "-pk")
        .annotate(full_name=Concat("typed_first_name", Value(" "), "typed_last_name"))
        .values("full_name")[:1]
    )
    waiting = Exists(User.objects.filter(role=Role.TEACHER, **match)) & ~Exists(
        memberships.filter(confirmed_at__isnull=False)
    )
    return Case(When(waiting, then=Coalesce(typed, Value(""))), default=name)


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
    account still exists and has no live membership here again (a removed
    last membership took the account with it: nothing left to restore).

    Only confirmed ones: a link by e-mail the teacher declined, or the school
    withdrew before the teacher confirmed, is registered again (with a new
    code to the teacher), never brought back past the teacher's decision.
    """
    live_again = Membership.objects.live().filter(school_unit=school_unit, user=OuterRef("user"))
    return Membership.objects.filter(
        school_unit=school_unit,
        removed_at__isnull=False,
        removed_at__gte=now - RESTORE_WINDOW,
        confirmed_at__isnull=False,
        user__is_active=True,
    ).exclude(Exists(live_again))


# --- Re-authentication before grave acts --------------------------------------

# SECURITY: removing a teacher's last membership (which deletes the account),
# regenerating someone else's password or card, and removing many at once ask
# for a factor again when the last one was proved longer ago than this: a
# session left open on a shared computer must not be enough for them.
REAUTHENTICATION_AFTER = datetime.timedelta(minutes=15)


def reauthentication_needed(
    *, authenticated_at: datetime.datetime | None, now: datetime.datetime
) -> bool:
    return authenticated_at is None or now - authenticated_at >= REAUTHENTICATION_AFTER


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
    grants nothing until its owner confirms (`permissions.services.memberships_register`).
    """
    lowered = sorted({email.strip().lower() for email in emails})
    return (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(role=Role.TEACHER, etjanster_owner__isnull=True, email_lower__in=lowered)
        .order_by("pk")
    )


def can_export_teacher_data(*, user: User, school_unit: SchoolUnit) -> bool:
    """Only a principal exports a teacher's data on request (README "Privacy").

    Answering a data subject's request is the personal-data controller's
    business, which the principal handles for the huvudman; a test
    administrator runs the school's tests and registrations, not its data
    protection. The caller has already scoped `school_unit` to the user.
    """
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
    from accounts.models import (
        CardState,
        MatrixCardDevice,
    )

    locked = MatrixCardDevice.objects.filter(user=OuterRef("user"), state=CardState.LOCKED)
    return appointments.annotate(card_locked=Exists(locked))


def test_admins_needing_attention(
    *, appointments: QuerySet[TestAdministrator], today: datetime.date
) -> QuerySet[TestAdministrator]:
    """What the principal should act on: expired (awaiting reactivation),
    deactivated, or locked out by its card."""
    from accounts.models import (
        CardState,
        MatrixCardDevice,
    )

    locked = MatrixCardDevice.objects.filter(user=OuterRef("user"), state=CardState.LOCKED)
    return appointments.filter(
        Q(valid_until__lt=today) | Q(deactivated_at__isnull=False) | Exists(locked)
    )


# --- Bedömningsportalen: the material gate ----------------------------------
#
# A protected item opens for a user exactly when (SPEC, "The material gate"):
#   1. the user is a teacher, logged in to the portal;
#   2. one of their memberships is valid for the current school year and not removed;
#   3. that membership's school has a school form whose LevelPolicy reaches the level;
#   4. that membership grants the item's subject.
# SECURITY: 2–4 must hold for ONE membership. The union is over memberships,
# never over conditions: one school's form with another school's subject
# opens nothing.


class Gated(Protocol):
    """What the gate reads of an item: the portal's `Material`, whose app sits
    above this one (the gate is the rule; the catalogue is the portal's)."""

    is_protected: bool
    subject_id: int | None
    subject: Subject | None
    level: str


@dataclass(frozen=True)
class Access:
    """The gate's answer for one user and one item, with what the refusal page needs."""

    allowed: bool
    # Which condition failed: NOT_TEACHER, NO_VALID_MEMBERSHIP, SCHOOL_FORM or SUBJECT.
    failure: RefusalCode | None = None
    # The school whose membership opened the item (None for open items).
    granted_by: SchoolUnit | None = None
    # NO_VALID_MEMBERSHIP: the live memberships that expired (school and principals
    # prefetched); empty when the teacher has no live membership at all.
    expired: tuple[Membership, ...] = field(default=())
    # SCHOOL_FORM / SUBJECT: the valid memberships the condition failed on.
    memberships: tuple[Membership, ...] = field(default=())
    subject: Subject | None = None
    level: str = ""
    # SCHOOL_FORM: the school forms that do reach the item's level (from LevelPolicy).
    reaching_forms: tuple[SchoolForm, ...] = field(default=())


def _is_portal_teacher(user) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.role == Role.TEACHER
    )


def _grants_opening(*, user: User, today: datetime.date, subject, level) -> QuerySet[SubjectGrant]:
    """Subject grants that open items of `subject` and `level` (values, or
    OuterRef expressions in a correlated subquery) for `user` today.

    Condition 2 on the membership, 3 through that membership's school's
    forms and the LevelPolicy table, 4 on the grant itself.

    PERFORMANCE: the school's forms are matched with a nested EXISTS on the
    M2M table and LevelPolicy, not with the ORM's join path
    `membership__school_unit__forms__level_policies`, which joined two
    more tables (school units, school forms) for nothing. PostgreSQL spent
    11–13 ms planning that six-table join on every catalogue view, forty
    times its execution; now about 0.5 ms.
    """
    reaching_forms = LevelPolicy.objects.filter(level=level).values("school_form_id")
    school_reaches = SchoolUnit.forms.through.objects.filter(
        schoolunit_id=OuterRef("membership__school_unit_id"),
        schoolform_id__in=reaching_forms,
    )
    return SubjectGrant.objects.filter(
        Exists(school_reaches),
        membership_valid_q(today, prefix="membership__"),
        membership__user=user,
        subject_id=subject,
    )


def material_access(*, user: User, material: Gated, today: datetime.date) -> Access:
    """Decide whether `material` opens for `user`, and if not, which condition failed.

    Open items open for anyone. A few queries per call: this is for the item
    page and its file, never for a list (use `with_material_access` there).
    """
    if not material.is_protected:
        return Access(allowed=True)
    if not _is_portal_teacher(user):
        return Access(allowed=False, failure=RefusalCode.NOT_TEACHER)

    opening = (
        _grants_opening(user=user, today=today, subject=material.subject_id, level=material.level)
        .select_related("membership__school_unit")
        .first()
    )
    if opening is not None:
        return Access(allowed=True, granted_by=opening.membership.school_unit)

    principals = Prefetch(
        "school_unit__principals", queryset=User.objects.filter(is_active=True).order_by("pk")
    )
    live = list(
        Membership.objects.live()
        # A membership waiting for its teacher's confirmation is not the
        # teacher's yet: it is neither valid nor "expired".
        .filter(membership_confirmed_q(), user=user)
        .select_related("school_unit__huvudman")
        .prefetch_related("school_unit__forms", principals)
        .order_by("school_unit__name")
    )
    valid = [m for m in live if m.is_valid_on(today)]
    if not valid:
        return Access(
            allowed=False,
            failure=RefusalCode.NO_VALID_MEMBERSHIP,
            expired=tuple(live),
            subject=material.subject,
            level=material.level,
        )
    reaching_forms = [
        rule.school_form
        for rule in LevelPolicy.objects.filter(level=material.level).select_related("school_form")
    ]
    reaching = [
        m for m in valid if any(form in reaching_forms for form in m.school_unit.forms.all())
    ]
    if not reaching:
        return Access(
            allowed=False,
            failure=RefusalCode.SCHOOL_FORM,
            memberships=tuple(valid),
            subject=material.subject,
            level=material.level,
            reaching_forms=tuple(reaching_forms),
        )
    return Access(
        allowed=False,
        failure=RefusalCode.SUBJECT,
        memberships=tuple(reaching),
        subject=material.subject,
        level=material.level,
    )


def can_view_material(*, user: User, material: Gated, today: datetime.date) -> bool:
    return material_access(user=user, material=material, today=today).allowed


def with_material_access(*, materials: QuerySet, user: User, today: datetime.date) -> QuerySet:
    """Annotate each item with `opens` (bool): whether it opens for `user` today.

    One correlated EXISTS per row inside the same SELECT, so a list of any
    length costs no extra query. The EXISTS joins grant → membership →
    school → form → LevelPolicy, so subject and level are matched on the
    same membership (conditions 2–4 together).
    """
    if not _is_portal_teacher(user):
        return materials.annotate(
            opens=ExpressionWrapper(Q(is_protected=False), output_field=BooleanField())
        )
    # `level` is read three queries out: LevelPolicy in the school's forms in the grants.
    opening = _grants_opening(
        user=user,
        today=today,
        subject=OuterRef("subject_id"),
        level=OuterRef(OuterRef(OuterRef("level"))),
    )
    return materials.annotate(
        opens=ExpressionWrapper(
            Q(is_protected=False) | Exists(opening), output_field=BooleanField()
        )
    )


def materials_visible_to(*, materials: QuerySet, user: User, today: datetime.date) -> QuerySet:
    """The items of `materials` whose file `user` may open today: the open ones
    and the granted ones."""
    return with_material_access(materials=materials, user=user, today=today).filter(opens=True)
