"""The one access policy: every rule about who may see or change what.

Plain keyword-only functions. Views, templates (through the view), admin
sites and commands call these; nothing restates a rule elsewhere. The caller
reads the clock once (`permissions.schoolyear.today()`) and passes `today`.
"""

import datetime

from django.db.models import QuerySet

from accounts.models import Role, User
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


def can_use_national_admin(*, user: User) -> bool:
    return user.is_active and user.role == Role.NATIONAL_ADMIN
