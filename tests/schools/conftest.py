"""Fixtures for /huvudman/: staff of two huvudmän and a principal of each."""

import pytest

from accounts.models import Role
from schools.models import PrincipalAssignment
from schools.services import principal_issue
from tests.conftest import make_user, verify_session


@pytest.fixture
def staff_client(client, huvudman_staff):
    return verify_session(client, huvudman_staff)


@pytest.fixture
def other_staff(other_huvudman):
    return make_user("annanpersonal", Role.HUVUDMAN_STAFF, is_staff=True, huvudman=other_huvudman)


@pytest.fixture
def other_principal(other_school):
    user = make_user("annanrektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=user, school_unit=other_school)
    return user


@pytest.fixture
def issued(grundskola, huvudman_staff):
    """A principal issued the way staff do it, with the credentials shown once."""
    return principal_issue(
        actor=huvudman_staff,
        name="Rut Rektorsson",
        email="rut@testkommun.se",
        school_units=[grundskola],
    )
