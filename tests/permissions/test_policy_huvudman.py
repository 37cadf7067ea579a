"""The policy for huvudman staff: scope is their own huvudman, nothing else."""

import pytest

from accounts.models import Role
from permissions.policy import (
    can_manage_huvudman,
    can_manage_principal,
    can_manage_school_unit,
    huvudman_of_staff,
    huvudman_principals,
    huvudman_school_units,
)
from schools.models import PrincipalAssignment
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_only_active_staff_have_a_huvudman(huvudman_staff, huvudman, principal, national_admin):
    assert huvudman_of_staff(user=huvudman_staff) == huvudman
    assert huvudman_of_staff(user=principal) is None
    assert huvudman_of_staff(user=national_admin) is None
    huvudman_staff.is_active = False
    assert huvudman_of_staff(user=huvudman_staff) is None
    assert not huvudman_school_units(user=huvudman_staff).exists()


def test_staff_manage_their_own_units_only(huvudman_staff, grundskola, gymnasium, other_school):
    assert list(huvudman_school_units(user=huvudman_staff)) == [gymnasium, grundskola]
    assert can_manage_school_unit(user=huvudman_staff, school_unit=grundskola)
    assert not can_manage_school_unit(user=huvudman_staff, school_unit=other_school)


def test_staff_manage_their_own_huvudman_only(huvudman_staff, huvudman, other_huvudman):
    assert can_manage_huvudman(user=huvudman_staff, huvudman=huvudman)
    assert not can_manage_huvudman(user=huvudman_staff, huvudman=other_huvudman)


def test_a_principal_of_two_own_units_is_listed_once(huvudman_staff, principal, other_school):
    other = make_user("annan", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=other, school_unit=other_school)
    assert list(huvudman_principals(user=huvudman_staff)) == [principal]
    assert can_manage_principal(user=huvudman_staff, principal=principal)
    assert not can_manage_principal(user=huvudman_staff, principal=other)


def test_teachers_and_test_admins_are_not_principals_to_manage(huvudman_staff, teacher, test_admin):
    assert not can_manage_principal(user=huvudman_staff, principal=teacher)
    assert not can_manage_principal(user=huvudman_staff, principal=test_admin)
