"""Where an account's audit events belong, as this app knows it: given to
`accounts.scopes` at start-up (`PermissionsConfig.ready`)."""

from accounts.models import Role, User
from accounts.scopes import Scopes
from permissions.models import Membership, TestAdministrator
from schools.models import PrincipalAssignment


def home_scope(user: User) -> dict:
    """A test administrator's school unit, a principal's huvudman (through its
    first linked unit), a staff member's huvudman; nothing for the rest."""
    if user.role == Role.TEST_ADMIN:
        appointment = TestAdministrator.objects.filter(user=user).first()
        if appointment is not None:
            return {"school_unit": appointment.school_unit}
    if user.role == Role.PRINCIPAL:
        assignment = (
            PrincipalAssignment.objects.filter(user=user).select_related("school_unit").first()
        )
        if assignment is not None:
            return {"huvudman": assignment.school_unit.huvudman}
    if user.huvudman_id is not None:
        return {"huvudman": user.huvudman}
    return {}


def login_scopes(user: User) -> list[dict]:
    """Where a login is recorded: a teacher's at each school whose live,
    confirmed membership makes the account exist (so each school, and its
    huvudman, sees its teachers' logins, and a school still waiting for the
    teacher's confirmation sees none); anyone else's at its home scope."""
    if user.role == Role.TEACHER:
        return [
            {"school_unit": membership.school_unit}
            for membership in Membership.objects.confirmed()
            .filter(user=user)
            .select_related("school_unit")
            .order_by("school_unit_id")
        ]
    return [home_scope(user)]


SCOPES = Scopes(home=home_scope, logins=login_scopes)
