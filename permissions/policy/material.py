"""Bedömningsportalen: the material gate."""

import datetime
from dataclasses import dataclass, field
from typing import Protocol

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
from core.prepared import Prepared, model_columns, model_from_row
from core.refusals import RefusalCode
from permissions.models import (
    LevelPolicy,
    Membership,
    Subject,
    SubjectGrant,
    membership_confirmed_q,
    membership_valid_q,
)
from schools.models import SchoolForm, SchoolUnit

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


def _grants_opening(
    *, user: User, today: datetime.date, subject, level, through: Membership | None = None
) -> QuerySet[SubjectGrant]:
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
    grants = SubjectGrant.objects.filter(
        Exists(school_reaches),
        membership_valid_q(today, prefix="membership__"),
        membership__user=user,
        subject_id=subject,
    )
    # One membership's part of the answer (the principal's view of what
    # opens through their school, `catalogue_as_teacher`).
    return grants if through is None else grants.filter(membership=through)


def _opening_unit(*, user_id: int, day: datetime.date, subject_id: int, level: str) -> QuerySet:
    """The school unit of the first grant that opens an item of this subject and level."""
    teacher = User(pk=user_id, role=Role.TEACHER, is_active=True)
    return (
        _grants_opening(user=teacher, today=day, subject=subject_id, level=level)
        .order_by("pk")
        .values(*model_columns(SchoolUnit, "membership__school_unit__"))
    )


# PERFORMANCE: the gate's statement for an item's page and file, compiled
# once (core.prepared): building it cost more than the rest of the page's
# queries together. The same queryset, run with each request's values.
_OPENING_UNIT = Prepared(_opening_unit, user_id=int, day=datetime.date, subject_id=int, level=str)


def material_access(*, user: User, material: Gated, today: datetime.date) -> Access:
    """Decide whether `material` opens for `user`, and if not, which condition failed.

    Open items open for anyone. A few queries per call: this is for the item
    page and its file, never for a list (use `with_material_access` there).
    """
    if not material.is_protected:
        return Access(allowed=True)
    if not _is_portal_teacher(user):
        return Access(allowed=False, failure=RefusalCode.NOT_TEACHER)

    if material.subject_id is not None:
        found = _OPENING_UNIT(
            user_id=user.pk,
            day=today,
            subject_id=material.subject_id,
            level=material.level,
            limit=1,
        )
        if found:
            unit = model_from_row(SchoolUnit, found[0], "membership__school_unit__")
            return Access(allowed=True, granted_by=unit)
    else:
        opening = (
            _grants_opening(user=user, today=today, subject=None, level=material.level)
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


def with_material_access(
    *,
    materials: QuerySet,
    user: User,
    today: datetime.date,
    through: Membership | None = None,
) -> QuerySet:
    """Annotate each item with `opens` (bool): whether it opens for `user`
    today (with `through`, whether it opens through that one membership).

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
        through=through,
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


# --- The catalogue as one teacher sees it, through one school ---------------------
#
# PRIVACY: a principal (or test administrator) sees what opens for a teacher
# through THEIR school's membership, never what another school granted: that
# is another employer's decision about its own staff. The page says the
# teacher may have more through other schools, without naming them.


@dataclass(frozen=True)
class MembershipGate:
    """What the gate reads of one membership, read once for a whole list."""

    valid: bool  # condition 2
    levels: frozenset[str]  # condition 3: the levels its school's forms reach
    subject_ids: frozenset[int]  # condition 4: the subjects it grants


def membership_gate(*, membership: Membership, today: datetime.date) -> MembershipGate:
    """Two queries, whatever the length of the list it explains."""
    reached = LevelPolicy.objects.filter(
        school_form__school_units=membership.school_unit_id
    ).values_list("level", flat=True)
    return MembershipGate(
        valid=_is_portal_teacher(membership.user) and membership.is_valid_on(today),
        levels=frozenset(reached),
        subject_ids=frozenset(membership.grants.values_list("subject_id", flat=True)),
    )


def refusal_through(*, gate: MembershipGate, material: Gated) -> RefusalCode | None:
    """Why `material` does not open through the membership `gate` describes,
    naming the first of conditions 2–4 that fails (as `material_access`
    does); None when it opens. Tests hold it to the gate's own answer
    (`with_material_access(..., through=...)`) item by item."""
    if not material.is_protected:
        return None
    if not gate.valid:
        return RefusalCode.NO_VALID_MEMBERSHIP
    if material.level not in gate.levels:
        return RefusalCode.SCHOOL_FORM
    if material.subject_id not in gate.subject_ids:
        return RefusalCode.SUBJECT
    return None
