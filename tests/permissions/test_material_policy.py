"""The material gate in permissions/policy/material.py over SPEC's whole condition matrix."""

import datetime
import itertools

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from core.refusals import RefusalCode
from permissions.models import LevelPolicy, MaterialLevel, Membership, Subject
from permissions.policy import (
    can_view_material,
    material_access,
    materials_visible_to,
    with_material_access,
)
from permissions.schoolyear import today as stockholm_today
from portal.models import Material
from schools.models import SchoolFormCode
from tests.conftest import END_OF_YEAR, SCHOOL_DAY, make_school, make_user
from tests.fixtures.material import STOCKHOLM, make_material

pytestmark = pytest.mark.django_db

# SPEC: grundskola-type forms reach grundskola material; the rest gymnasial only.
GRUNDSKOLA_FORMS = {
    SchoolFormCode.GRUNDSKOLA,
    SchoolFormCode.ANPASSAD_GRUNDSKOLA,
    SchoolFormCode.SPECIALSKOLA,
    SchoolFormCode.SAMESKOLA,
}
SUBJECT_OF_LEVEL = {MaterialLevel.GRUNDSKOLA: "GRGRMAT01", MaterialLevel.GYMNASIAL: "MAT"}
YESTERDAY = SCHOOL_DAY - datetime.timedelta(days=1)


def visible_to(user, today):
    return materials_visible_to(materials=Material.objects.all(), user=user, today=today)


def opens_in_list(user, material, day) -> bool:
    annotated = with_material_access(
        materials=Material.objects.filter(pk=material.pk), user=user, today=day
    )
    return annotated.get().opens


@pytest.mark.parametrize(
    ("state", "form", "level", "granted"),
    list(
        itertools.product(
            ["active", "expired", "removed"],
            list(SchoolFormCode),
            list(MaterialLevel),
            [True, False],
        )
    ),
)
def test_protected_material_opens_only_when_one_membership_meets_conditions_2_to_4(
    huvudman, state, form, level, granted
):
    school = make_school("12345678", "Skolan", huvudman, [form])
    teacher = make_user("matrislarare", Role.TEACHER)
    membership = Membership.objects.create(
        user=teacher,
        school_unit=school,
        valid_until=YESTERDAY if state == "expired" else END_OF_YEAR,
        removed_at=timezone.now() if state == "removed" else None,
    )
    subject_code = SUBJECT_OF_LEVEL[level]
    if granted:
        membership.subjects.add(Subject.objects.get(code=subject_code))
    material = make_material("skyddat", subject_code=subject_code, level=level)

    access = material_access(user=teacher, material=material, today=SCHOOL_DAY)

    reaches = (form in GRUNDSKOLA_FORMS) == (level == MaterialLevel.GRUNDSKOLA)
    if state != "active":
        expected = RefusalCode.NO_VALID_MEMBERSHIP
    elif not reaches:
        expected = RefusalCode.SCHOOL_FORM
    elif not granted:
        expected = RefusalCode.SUBJECT
    else:
        expected = None
    assert access.failure == expected
    assert access.allowed is (expected is None)
    assert can_view_material(user=teacher, material=material, today=SCHOOL_DAY) is access.allowed
    # The catalogue's one-query answer agrees with the item page's.
    assert opens_in_list(teacher, material, SCHOOL_DAY) is access.allowed
    if expected is None:
        assert access.granted_by == school
    if state == "expired":
        assert [m.school_unit for m in access.expired] == [school]
    if state == "removed":
        # A removed membership is history: the refusal does not name that school.
        assert access.expired == ()


@pytest.mark.parametrize(
    "role", [Role.PRINCIPAL, Role.TEST_ADMIN, Role.HUVUDMAN_STAFF, Role.NATIONAL_ADMIN]
)
def test_other_roles_never_open_protected_material_but_open_material_is_open(
    role, huvudman, grundskola
):
    extra = {"huvudman": huvudman} if role == Role.HUVUDMAN_STAFF else {}
    user = make_user("annanroll", role, **extra)
    # Even a stray membership row (which no service would create) does not help.
    membership = Membership.objects.create(
        user=user, school_unit=grundskola, valid_until=END_OF_YEAR
    )
    membership.subjects.add(Subject.objects.get(code="GRGRMAT01"))
    protected = make_material("skyddat")
    open_item = make_material("oppet", protected=False)

    access = material_access(user=user, material=protected, today=SCHOOL_DAY)
    assert access.failure == RefusalCode.NOT_TEACHER
    assert not opens_in_list(user, protected, SCHOOL_DAY)
    assert material_access(user=user, material=open_item, today=SCHOOL_DAY).allowed
    assert opens_in_list(user, open_item, SCHOOL_DAY)


def test_anonymous_is_refused_protected_material_with_condition_1(teacher):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    protected = make_material("skyddat")
    open_item = make_material("oppet", protected=False)
    assert material_access(user=anonymous, material=protected, today=SCHOOL_DAY).failure == (
        RefusalCode.NOT_TEACHER
    )
    assert material_access(user=anonymous, material=open_item, today=SCHOOL_DAY).allowed
    assert list(visible_to(anonymous, today=SCHOOL_DAY)) == [open_item]


def test_a_deactivated_teacher_account_opens_nothing_protected(teacher):
    teacher.is_active = False
    teacher.save()
    material = make_material("skyddat")
    assert material_access(user=teacher, material=material, today=SCHOOL_DAY).failure == (
        RefusalCode.NOT_TEACHER
    )
    assert not opens_in_list(teacher, material, SCHOOL_DAY)


def test_one_schools_form_never_combines_with_another_schools_subject(grundskola, gymnasium):
    """Grundskola membership lacks Matematik; the gymnasium one has it but can't reach
    grundskola material. Neither membership alone meets 2–4, so it stays closed."""
    teacher = make_user("tvaskolor", Role.TEACHER)
    at_grundskola = Membership.objects.create(
        user=teacher, school_unit=grundskola, valid_until=END_OF_YEAR
    )
    at_grundskola.subjects.add(Subject.objects.get(code="GRGRENG01"))
    at_gymnasium = Membership.objects.create(
        user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR
    )
    at_gymnasium.subjects.add(Subject.objects.get(code="GRGRMAT01"))
    material = make_material("matte", subject_code="GRGRMAT01")

    access = material_access(user=teacher, material=material, today=SCHOOL_DAY)

    assert not access.allowed
    assert access.failure == RefusalCode.SUBJECT
    # The refusal points at the school where a grant would help.
    assert [m.school_unit for m in access.memberships] == [grundskola]
    assert not opens_in_list(teacher, material, SCHOOL_DAY)
    assert list(visible_to(teacher, today=SCHOOL_DAY)) == []


def test_memberships_at_two_schools_open_the_union_of_what_each_opens(grundskola, gymnasium):
    teacher = make_user("tvaskolor", Role.TEACHER)
    at_grundskola = Membership.objects.create(
        user=teacher, school_unit=grundskola, valid_until=END_OF_YEAR
    )
    at_grundskola.subjects.add(Subject.objects.get(code="GRGRMAT01"))
    at_gymnasium = Membership.objects.create(
        user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR
    )
    at_gymnasium.subjects.add(Subject.objects.get(code="SVE"))
    grund_math = make_material("grund-matte", subject_code="GRGRMAT01")
    gy_swedish = make_material("gy-svenska", subject_code="SVE", level=MaterialLevel.GYMNASIAL)
    gy_math = make_material("gy-matte", subject_code="MAT", level=MaterialLevel.GYMNASIAL)

    assert material_access(user=teacher, material=grund_math, today=SCHOOL_DAY).granted_by == (
        grundskola
    )
    assert material_access(user=teacher, material=gy_swedish, today=SCHOOL_DAY).granted_by == (
        gymnasium
    )
    assert material_access(user=teacher, material=gy_math, today=SCHOOL_DAY).failure == (
        RefusalCode.SUBJECT
    )
    visible = set(visible_to(teacher, today=SCHOOL_DAY))
    assert visible == {grund_math, gy_swedish}


def test_an_expired_membership_does_not_lend_its_school_to_an_active_one(grundskola, gymnasium):
    teacher = make_user("tvaskolor", Role.TEACHER)
    expired = Membership.objects.create(user=teacher, school_unit=grundskola, valid_until=YESTERDAY)
    expired.subjects.add(Subject.objects.get(code="GRGRMAT01"))
    active = Membership.objects.create(user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR)
    active.subjects.add(Subject.objects.get(code="GRGRMAT01"))
    material = make_material("matte", subject_code="GRGRMAT01")

    access = material_access(user=teacher, material=material, today=SCHOOL_DAY)

    assert access.failure == RefusalCode.SCHOOL_FORM
    assert [m.school_unit for m in access.memberships] == [gymnasium]


def test_the_form_to_level_rule_is_read_from_the_policy_table(teacher, grundskola):
    material = make_material("matte", subject_code="GRGRMAT01")
    assert can_view_material(user=teacher, material=material, today=SCHOOL_DAY)

    LevelPolicy.objects.filter(school_form_id="grundskola").delete()

    access = material_access(user=teacher, material=material, today=SCHOOL_DAY)
    assert access.failure == RefusalCode.SCHOOL_FORM
    assert not opens_in_list(teacher, material, SCHOOL_DAY)
    assert "grundskola" not in {form.code for form in access.reaching_forms}


def test_a_school_with_several_forms_reaches_every_level_any_form_reaches(huvudman):
    school = make_school("12345678", "F–gy", huvudman, ["grundskola", "gymnasieskola"])
    teacher = make_user("bredlarare", Role.TEACHER)
    membership = Membership.objects.create(
        user=teacher, school_unit=school, valid_until=END_OF_YEAR
    )
    membership.subjects.add(*Subject.objects.filter(code__in=["GRGRMAT01", "MAT"]))
    grund = make_material("grund", subject_code="GRGRMAT01")
    gy = make_material("gy", subject_code="MAT", level=MaterialLevel.GYMNASIAL)
    assert set(visible_to(teacher, today=SCHOOL_DAY)) == {grund, gy}


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        (datetime.datetime(2027, 7, 31, 23, 59, tzinfo=STOCKHOLM), True),
        # 00:30 on 1 August in Stockholm is still 31 July in UTC: the
        # school year follows Swedish time.
        (datetime.datetime(2027, 8, 1, 0, 30, tzinfo=STOCKHOLM), False),
        (datetime.datetime(2027, 8, 15, 12, 0, tzinfo=STOCKHOLM), False),
    ],
)
def test_membership_expires_when_1_august_begins_in_stockholm(teacher, moment, opens):
    material = make_material("matte", subject_code="GRGRMAT01")
    with time_machine.travel(moment, tick=False):
        day = stockholm_today()
    access = material_access(user=teacher, material=material, today=day)
    assert access.allowed is opens
    if not opens:
        assert access.failure == RefusalCode.NO_VALID_MEMBERSHIP
        assert [m.valid_until for m in access.expired] == [END_OF_YEAR]


def test_expired_refusal_names_the_school_and_its_principals(teacher, principal, grundskola):
    material = make_material("matte", subject_code="GRGRMAT01")
    after = datetime.date(2027, 8, 1)
    access = material_access(user=teacher, material=material, today=after)
    [membership] = access.expired
    assert membership.school_unit == grundskola
    assert list(membership.school_unit.principals.all()) == [principal]
