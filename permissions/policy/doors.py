"""Login doors: which role logs in where, when a session counts as logged in,
and when a grave act asks for a factor again."""

import datetime

from django.db.models import QuerySet

from accounts.doors import Door, door_of
from accounts.models import ADMIN_ROLES, MatrixCardDevice, Role, User
from permissions.models import TestAdministrator
from permissions.policy.huvudman import can_use_huvudman_site

# --- Login doors: which role uses which login, and when a session counts -------
#
# SECURITY: which role logs in at which door is `accounts.doors.door_of`; these
# functions add that the account is active, and when a session counts as
# logged in. The login views, the decorators, the admin sites and the session
# middleware ask these functions; none restates the rule.


def _uses(user: User, door: Door) -> bool:
    return bool(user.is_authenticated and user.is_active and door_of(user) == door)


def can_use_national_admin(*, user: User) -> bool:
    return _uses(user, Door.ADMIN)


def can_use_etjanster(*, user: User) -> bool:
    """A principal or test administrator: the roles that log in to E-tjänster."""
    return _uses(user, Door.ETJANSTER)


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
    return _uses(user, Door.PORTAL)


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
