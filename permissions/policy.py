"""The one access policy: every rule about who may see or change what.

Plain keyword-only functions. Views, templates (through the view), admin
sites and commands call these; nothing restates a rule elsewhere. The caller
reads the clock once (`permissions.schoolyear.today()`) and passes `today`.
"""

import datetime
import enum
from dataclasses import dataclass, field

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

from accounts.models import Role, User
from permissions.models import LevelPolicy, Membership, Subject, SubjectGrant
from portal.models import Material
from schools.models import SchoolForm, SchoolUnit


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


class AccessFailure(enum.StrEnum):
    NOT_TEACHER = "not_teacher"  # condition 1
    NO_VALID_MEMBERSHIP = "no_valid_membership"  # condition 2
    SCHOOL_FORM = "school_form"  # condition 3
    SUBJECT = "subject"  # condition 4


@dataclass(frozen=True)
class Access:
    """The gate's answer for one user and one item, with what the refusal page needs."""

    allowed: bool
    failure: AccessFailure | None = None
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


def _grants_opening(*, user: User, today: datetime.date) -> QuerySet[SubjectGrant]:
    """Subject grants on memberships that satisfy condition 2.

    Filter on level through the same membership's school forms (condition 3)
    and on subject (condition 4) to get the rows that open an item.
    """
    return SubjectGrant.objects.filter(
        membership__user=user,
        membership__removed_at__isnull=True,
        membership__valid_until__gte=today,
    )


def material_access(*, user: User, material: Material, today: datetime.date) -> Access:
    """Decide whether `material` opens for `user`, and if not, which condition failed.

    Open items open for anyone. A few queries per call: this is for the item
    page and its file, never for a list (use `with_material_access` there).
    """
    if not material.is_protected:
        return Access(allowed=True)
    if not _is_portal_teacher(user):
        return Access(allowed=False, failure=AccessFailure.NOT_TEACHER)

    opening = (
        _grants_opening(user=user, today=today)
        .filter(
            subject_id=material.subject_id,
            membership__school_unit__forms__level_policies__level=material.level,
        )
        .select_related("membership__school_unit")
        .first()
    )
    if opening is not None:
        return Access(allowed=True, granted_by=opening.membership.school_unit)

    principals = Prefetch(
        "school_unit__principals", queryset=User.objects.filter(is_active=True).order_by("pk")
    )
    live = list(
        Membership.objects.filter(user=user, removed_at__isnull=True)
        .select_related("school_unit__huvudman")
        .prefetch_related("school_unit__forms", principals)
        .order_by("school_unit__name")
    )
    valid = [m for m in live if m.is_valid_on(today)]
    if not valid:
        return Access(
            allowed=False,
            failure=AccessFailure.NO_VALID_MEMBERSHIP,
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
            failure=AccessFailure.SCHOOL_FORM,
            memberships=tuple(valid),
            subject=material.subject,
            level=material.level,
            reaching_forms=tuple(reaching_forms),
        )
    return Access(
        allowed=False,
        failure=AccessFailure.SUBJECT,
        memberships=tuple(reaching),
        subject=material.subject,
        level=material.level,
    )


def can_view_material(*, user: User, material: Material, today: datetime.date) -> bool:
    return material_access(user=user, material=material, today=today).allowed


def with_material_access(
    *, materials: QuerySet[Material], user: User, today: datetime.date
) -> QuerySet[Material]:
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
    opening = _grants_opening(user=user, today=today).filter(
        subject_id=OuterRef("subject_id"),
        membership__school_unit__forms__level_policies__level=OuterRef("level"),
    )
    return materials.annotate(
        opens=ExpressionWrapper(
            Q(is_protected=False) | Exists(opening), output_field=BooleanField()
        )
    )


def materials_visible_to(*, user: User, today: datetime.date) -> QuerySet[Material]:
    """Every item whose file `user` may open today: the open ones and the granted ones."""
    return with_material_access(materials=Material.objects.all(), user=user, today=today).filter(
        opens=True
    )
