"""The huvudman's reports at /huvudman/rapporter/: what needs the staff's
attention, each a constant number of queries however large the huvudman.

SECURITY: every report starts from a policy function scoped to the staff
member's huvudman (`huvudman_principals`, `huvudman_school_units`), so
another huvudman's people and units never appear.
"""

import dataclasses
import datetime
from collections.abc import Callable

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import CardState, MatrixCardDevice, Role, User
from permissions import policy
from permissions.models import TestAdministrator, membership_confirmed_q, membership_live_q
from schools.models import PrincipalAssignment


@dataclasses.dataclass(frozen=True)
class Report:
    """One report: its rows as lists of cells under `columns`."""

    slug: str
    title: str
    explanation: str
    columns: list[str]
    rows: list[list]


def _units_of(users: list[User]) -> dict[int, list[str]]:
    """The unit names each principal leads (one query)."""
    names: dict[int, list[str]] = {user.pk: [] for user in users}
    for user_id, name, code in (
        PrincipalAssignment.objects.filter(user__in=users)
        .order_by("school_unit__name")
        .values_list("user_id", "school_unit__name", "school_unit__code")
    ):
        names[user_id].append(f"{name} ({code})")
    return names


def never_logged_in(*, staff: User, today: datetime.date) -> Report:
    """Active principals of the huvudman whose password was never accepted:
    credentials that may never have reached them."""
    principals = list(
        policy.huvudman_principals(user=staff).filter(is_active=True, last_login__isnull=True)
    )
    units = _units_of(principals)
    return Report(
        slug="never_logged_in",
        title=str(_("Principals who never logged in")),
        explanation=str(
            _("Their credentials may not have reached them. Check, or issue them again.")
        ),
        columns=[str(_("Name")), str(_("Username")), str(_("E-mail")), str(_("School units"))],
        rows=[[p.get_full_name(), p.username, p.email, ", ".join(units[p.pk])] for p in principals],
    )


def units_without_principal(*, staff: User, today: datetime.date) -> Report:
    huvudman = policy.huvudman_of_staff(user=staff)
    units = policy.units_without_active_principal().filter(huvudman=huvudman).order_by("name")
    return Report(
        slug="units_without_principal",
        title=str(_("School units without an active principal")),
        explanation=str(
            _("Nobody there can appoint test administrators or remove teachers. Issue a principal.")
        ),
        columns=[str(_("School unit")), str(_("Skolenhetskod"))],
        rows=[[unit.name, unit.code] for unit in units],
    )


def locked_cards(*, staff: User, today: datetime.date) -> Report:
    """Locked cards of the huvudman's principals (staff unlock them) and of
    test administrators at its units (their principal unlocks them)."""
    huvudman = policy.huvudman_of_staff(user=staff)
    principals = policy.huvudman_principals(user=staff).values("pk")
    at_units = TestAdministrator.objects.filter(school_unit__huvudman=huvudman).values("user_id")
    cards = list(
        MatrixCardDevice.objects.filter(state=CardState.LOCKED)
        .filter(Q(user__in=principals) | Q(user__in=at_units))
        .select_related("user", "user__test_admin_appointment__school_unit")
        .order_by("-locked_at", "pk")
    )
    principal_units = _units_of([card.user for card in cards if card.user.role == Role.PRINCIPAL])

    def where(user: User) -> str:
        if user.role == Role.PRINCIPAL:
            return ", ".join(principal_units.get(user.pk, []))
        unit = user.test_admin_appointment.school_unit
        return f"{unit.name} ({unit.code})"

    return Report(
        slug="locked_cards",
        title=str(_("Locked matrix cards")),
        explanation=str(
            _(
                "A principal's card is unlocked here, on the principal's page; a test "
                "administrator's by the school's principal."
            )
        ),
        columns=[
            str(_("Name")),
            str(_("Username")),
            str(_("Role")),
            str(_("School units")),
            str(_("Card")),
            str(_("Locked")),
        ],
        rows=[
            [
                card.user.get_full_name(),
                card.user.username,
                str(card.user.get_role_display()),
                where(card.user),
                card.serial,
                card.locked_at,
            ]
            for card in cards
        ],
    )


def teachers_per_unit(*, staff: User, today: datetime.date) -> Report:
    """Each unit's teachers: valid this school year, awaiting reactivation,
    awaiting their confirmation (one query)."""
    live = membership_live_q("memberships__")
    confirmed = live & membership_confirmed_q("memberships__")
    units = policy.huvudman_school_units(user=staff).annotate(
        valid=Count("memberships", filter=confirmed & Q(memberships__valid_until__gte=today)),
        expired=Count("memberships", filter=confirmed & Q(memberships__valid_until__lt=today)),
        pending=Count("memberships", filter=live & ~membership_confirmed_q("memberships__")),
    )
    return Report(
        slug="teachers_per_unit",
        title=str(_("Teachers per school unit")),
        explanation=str(
            _("Teachers whose membership is valid this school year, and those waiting.")
        ),
        columns=[
            str(_("School unit")),
            str(_("Skolenhetskod")),
            str(_("Valid")),
            str(_("Awaiting reactivation")),
            str(_("Awaiting the teacher's confirmation")),
        ],
        rows=[[u.name, u.code, u.valid, u.expired, u.pending] for u in units],
    )


REPORTS: dict[str, Callable[..., Report]] = {
    "never_logged_in": never_logged_in,
    "units_without_principal": units_without_principal,
    "locked_cards": locked_cards,
    "teachers_per_unit": teachers_per_unit,
}
