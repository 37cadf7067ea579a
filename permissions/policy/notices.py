"""Who is told: the people who answer for a school unit or a huvudman, as the
notices (`notifications`) and the huvudman's reports ask for them.

The same rules as the doors: a principal answers for every unit linked to
them, a test administrator for its own unit while its appointment is valid,
huvudman staff for every unit of their huvudman; only active accounts.
"""

import datetime
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Role, User
from permissions.models import TestAdministrator
from schools.models import PrincipalAssignment, SchoolUnit


def school_principals(*, school_unit_ids: Iterable[int]) -> QuerySet[User]:
    """Active principals linked to any of these units."""
    linked = PrincipalAssignment.objects.filter(
        user=OuterRef("pk"), school_unit_id__in=list(school_unit_ids)
    )
    return User.objects.filter(Exists(linked), role=Role.PRINCIPAL, is_active=True)


def school_administrators(
    *, school_unit_ids: Iterable[int], today: datetime.date
) -> QuerySet[User]:
    """Active principals and test administrators (appointment valid today)
    of any of these units: who registers teachers there."""
    ids = list(school_unit_ids)
    linked = PrincipalAssignment.objects.filter(user=OuterRef("pk"), school_unit_id__in=ids)
    appointed = TestAdministrator.objects.filter(
        user=OuterRef("pk"),
        school_unit_id__in=ids,
        deactivated_at__isnull=True,
        valid_until__gte=today,
    )
    return User.objects.filter(
        (Q(role=Role.PRINCIPAL) & Exists(linked)) | (Q(role=Role.TEST_ADMIN) & Exists(appointed)),
        is_active=True,
    )


def units_administered(*, users: Iterable[User], today: datetime.date) -> dict[int, set[int]]:
    """For each of these people, the ids of the units they answer for (two queries)."""
    ids = [user.pk for user in users]
    units: dict[int, set[int]] = {pk: set() for pk in ids}
    for user_id, unit_id in PrincipalAssignment.objects.filter(user_id__in=ids).values_list(
        "user_id", "school_unit_id"
    ):
        units[user_id].add(unit_id)
    for user_id, unit_id in TestAdministrator.objects.filter(
        user_id__in=ids, deactivated_at__isnull=True, valid_until__gte=today
    ).values_list("user_id", "school_unit_id"):
        units[user_id].add(unit_id)
    return units


def huvudman_staff_members(*, huvudman_ids: Iterable[int]) -> QuerySet[User]:
    """Active huvudman staff of any of these huvudmän."""
    return User.objects.filter(
        role=Role.HUVUDMAN_STAFF, is_active=True, huvudman_id__in=list(huvudman_ids)
    )


def principal_huvudman_ids(*, principal: User) -> set[int]:
    """The huvudmän whose units a principal leads (whose staff issue their card)."""
    return set(
        PrincipalAssignment.objects.filter(user=principal).values_list(
            "school_unit__huvudman_id", flat=True
        )
    )


def units_without_active_principal() -> QuerySet[SchoolUnit]:
    """School units no active principal leads: nobody there can appoint test
    administrators or remove teachers, and nobody hears of a locked card."""
    led = PrincipalAssignment.objects.filter(
        school_unit=OuterRef("pk"), user__is_active=True, user__role=Role.PRINCIPAL
    )
    return SchoolUnit.objects.exclude(Exists(led)).select_related("huvudman")
