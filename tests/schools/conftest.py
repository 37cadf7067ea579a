"""Fixtures for /huvudman/ (staff of two huvudmän and a principal of each)
and for the E-tjänster school-administration tests."""

import pytest
from django.test import Client

from accounts.models import (
    Role,
    User,
)
from audit.context import AuditContext
from permissions.models import (
    Membership,
    Subject,
    SubjectGrant,
)
from schools.models import PrincipalAssignment
from schools.services import principal_issue
from tests.conftest import END_OF_YEAR, make_user, verify_session


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
        context=AuditContext(actor=huvudman_staff),
        name="Rut Rektorsson",
        email="rut@testkommun.se",
        school_units=[grundskola],
    )


@pytest.fixture
def test_admin_client(test_admin) -> Client:
    return verify_session(Client(), test_admin)


@pytest.fixture
def teacher_client(teacher) -> Client:
    client = Client()
    client.force_login(teacher)
    return client


def make_teachers(school_unit, count: int, *, valid_until=END_OF_YEAR, prefix="t") -> list:
    """`count` teachers with one subject each, in bulk (fast)."""
    users = User.objects.bulk_create(
        [
            User(
                username=f"{prefix}{i:06d}",
                role=Role.TEACHER,
                first_name=f"Förnamn{i}",
                last_name=f"Efternamn{i}",
                email=f"{prefix}{i}@skola.example",
            )
            for i in range(count)
        ]
    )
    users = list(User.objects.filter(username__startswith=prefix, role=Role.TEACHER))
    memberships = Membership.objects.bulk_create(
        [Membership(user=user, school_unit=school_unit, valid_until=valid_until) for user in users]
    )
    memberships = list(Membership.objects.filter(user__in=users, school_unit=school_unit))
    subject = Subject.objects.get(code="GRGRMAT01")
    SubjectGrant.objects.bulk_create(
        [SubjectGrant(membership=membership, subject=subject) for membership in memberships]
    )
    return memberships
