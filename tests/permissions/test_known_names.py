"""The four forms of the known-name rule (`permissions.policy`) agree.

A school or huvudman that never saw a teacher confirm one of its
memberships knows the teacher by the name it typed; the rule has a Python
and an SQL form for one membership and for a scope of memberships. Each
page uses one of them, so here they are asked about the same rows.
"""

import pytest
from django.db.models import OuterRef

from accounts.models import Role, User
from permissions.models import Membership
from permissions.policy import (
    KNOWN_NAMES,
    full_name_known_in,
    known_full_name,
    known_name_scope,
    known_names,
    names_known_in,
    people_known_at_school,
)
from tests.conftest import END_OF_YEAR, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(other_school) -> User:
    """Confirmed at another huvudman's school, under her own name."""
    user = make_user("anna", Role.TEACHER)
    User.objects.filter(pk=user.pk).update(last_name="Berg")
    user.refresh_from_db()
    Membership.objects.create(user=user, school_unit=other_school, valid_until=END_OF_YEAR)
    return user


def link(user, school_unit, first, last) -> Membership:
    """A membership linked by e-mail address, waiting for the teacher."""
    return Membership.objects.create(
        user=user,
        school_unit=school_unit,
        valid_until=END_OF_YEAR,
        confirmed_at=None,
        typed_first_name=first,
        typed_last_name=last,
    )


def python_and_sql_for_scope(scope, user, school_unit=None) -> tuple[str, str]:
    python = names_known_in(scope=scope, users=[user]).get(user.pk, user.get_full_name())
    if school_unit is not None:
        # The same query for a school's scope, compiled once (the log page's).
        people, names = people_known_at_school(
            school_unit_id=school_unit.pk, ids=[user.pk], usernames=[user.username]
        )
        assert [person["pk"] for person in people] == [user.pk]
        assert names.get(user.pk, user.get_full_name()) == python
    sql = (
        User.objects.filter(pk=user.pk)
        .annotate(known=full_name_known_in(scope=scope, pk=OuterRef("pk")))
        .values_list("known", flat=True)
        .get()
    )
    return python, sql


def test_one_membership_python_and_sql_agree_waiting_and_confirmed(anna, grundskola):
    waiting = link(anna, grundskola, "Anna-Typad", "Bergström")
    rows = dict(
        Membership.objects.filter(user=anna)
        .annotate(**KNOWN_NAMES)
        .values_list("pk", "known_first_name")
    )
    mine = Membership.objects.get(user=anna, school_unit__code="99999999")
    assert known_names(membership=waiting) == ("Anna-Typad", "Bergström")
    assert rows[waiting.pk] == "Anna-Typad"
    assert known_names(membership=mine) == ("Anna", "Berg")
    assert rows[mine.pk] == "Anna"
    assert known_full_name(membership=waiting) == "Anna-Typad Bergström"


def test_a_scope_that_never_saw_a_confirmation_knows_the_latest_typed_name(
    anna, grundskola, gymnasium
):
    link(anna, grundskola, "Först", "Typad")
    link(anna, gymnasium, "Senast", "Typad")
    school = known_name_scope(school_unit=grundskola)
    huvudman = known_name_scope(huvudman=grundskola.huvudman)
    assert python_and_sql_for_scope(school, anna, grundskola) == ("Först Typad", "Först Typad")
    assert python_and_sql_for_scope(huvudman, anna) == ("Senast Typad", "Senast Typad")
    # The national log (no scope), and the school that has her confirmed.
    assert python_and_sql_for_scope(None, anna) == ("Anna Berg", "Anna Berg")
    own_school = anna.memberships.get(confirmed_at__isnull=False).school_unit
    own = known_name_scope(school_unit=own_school)
    assert python_and_sql_for_scope(own, anna, own_school) == ("Anna Berg", "Anna Berg")


def test_one_confirmation_in_the_scope_shows_the_accounts_name_in_every_form(
    anna, grundskola, gymnasium
):
    waiting = link(anna, grundskola, "Typad", "Anna")
    link(anna, gymnasium, "Typad", "Igen")
    huvudman = known_name_scope(huvudman=grundskola.huvudman)
    waiting.confirmed_at = waiting.created_at
    waiting.save(update_fields=["confirmed_at"])
    assert known_names(membership=waiting) == ("Anna", "Berg")
    assert python_and_sql_for_scope(huvudman, anna) == ("Anna Berg", "Anna Berg")
    # The gymnasium itself still has only its own waiting link.
    gymnasium_scope = known_name_scope(school_unit=gymnasium)
    assert python_and_sql_for_scope(gymnasium_scope, anna, gymnasium) == (
        "Typad Igen",
        "Typad Igen",
    )


def test_people_other_than_teachers_keep_their_own_name(principal, grundskola):
    scope = known_name_scope(school_unit=grundskola)
    assert python_and_sql_for_scope(scope, principal, grundskola) == (
        "Rektor Testsson",
        "Rektor Testsson",
    )


def test_a_school_knows_the_name_typed_on_its_latest_link(anna, grundskola, principal):
    old = link(anna, grundskola, "Gammal", "Typning")
    Membership.objects.filter(pk=old.pk).update(removed_at=old.created_at)
    link(anna, grundskola, "Ny", "Typning")
    school = known_name_scope(school_unit=grundskola)
    assert python_and_sql_for_scope(school, anna, grundskola) == ("Ny Typning", "Ny Typning")
    # And the log page's one statement, asked for several people at once.
    people, names = people_known_at_school(
        school_unit_id=grundskola.pk,
        ids=[principal.pk, anna.pk],
        usernames=[anna.username, "nobody"],
    )
    assert sorted(person["username"] for person in people) == sorted(
        [anna.username, principal.username]
    )
    assert names == {anna.pk: "Ny Typning"}
