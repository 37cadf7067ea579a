"""Huvudman staff at /huvudman/: their huvudman, its school units and
principals, and its log."""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Role, User
from audit.models import AuditEvent
from schools.models import Huvudman, PrincipalAssignment, SchoolUnit

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
