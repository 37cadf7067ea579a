"""A prepared statement is the queryset's own SQL, run with new values; a
builder whose statement would freeze a value computed from its arguments, or
whose shape depends on them, is refused when it is first used."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, Func, Subquery
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core.prepared import InList, Prepared, PreparedList
from etjanster.views.home import (
    ATTENTION,
    COLUMNS,
    _school_units_with_counts,
    school_units_with_counts,
)
from permissions.models import Membership, Subject
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def live_on(school_id: int, day: datetime.date):
    return (
        Membership.objects.live()
        .valid_on(day)
        .filter(school_unit_id=school_id)
        .order_by("pk")
        .values("pk", "valid_until", "user__username")
    )


def test_rows_are_the_querysets_own_for_any_values(teacher, grundskola, gymnasium):
    prepared = Prepared(live_on, school_id=int, day=datetime.date)
    for school in (grundskola, gymnasium):
        for day in (
            datetime.date(2020, 1, 1),
            datetime.date(2026, 8, 1),
            datetime.date(2099, 1, 1),
        ):
            assert prepared(school_id=school.pk, day=day) == list(live_on(school.pk, day))
    assert prepared(school_id=grundskola.pk, day=datetime.date(2026, 8, 1))


def test_a_value_computed_from_an_argument_is_refused(db):
    prepared = Prepared(
        lambda day: Membership.objects.filter(valid_until__year=day.year).values("pk"),
        day=datetime.date,
    )
    with pytest.raises(ImproperlyConfigured, match="computed from the arguments"):
        prepared(day=datetime.date(2026, 8, 1))


def test_a_shape_that_depends_on_an_argument_is_refused(db):
    def build(number: int):
        queryset = Membership.objects.values("pk")
        return queryset.filter(pk=number) if number % 2 else queryset.filter(pk__gt=number)

    with pytest.raises(ImproperlyConfigured, match="shape"):
        Prepared(build, number=int)(number=1)


def test_only_values_querysets_are_prepared(db):
    with pytest.raises(ImproperlyConfigured, match="values"):
        Prepared(lambda number: Membership.objects.filter(pk=number), number=int)(number=1)


def test_the_start_pages_statement_counts_as_the_orm_does(
    principal, test_admin, teacher, grundskola, gymnasium
):
    day = datetime.date(2026, 12, 1)
    for user in (principal, test_admin, make_user("another-principal", principal.role)):
        prepared = school_units_with_counts(user=user, day=day)
        orm = list(_school_units_with_counts(user=user, day=day).values(*COLUMNS, ATTENTION))
        assert prepared == orm


def test_arguments_of_one_type_each_go_where_they_belong(teacher, grundskola, gymnasium):
    def build(first: int, second: int, since: datetime.date, until: datetime.date):
        return (
            Membership.objects.filter(school_unit_id__in=[first, second])
            .filter(valid_until__gte=since, valid_until__lte=until)
            .order_by("pk")
            .values("pk")
        )

    prepared = Prepared(build, first=int, second=int, since=datetime.date, until=datetime.date)
    days = {"since": datetime.date(2020, 1, 1), "until": datetime.date(2099, 1, 1)}
    for first, second in ((grundskola.pk, 0), (0, grundskola.pk), (gymnasium.pk, 0)):
        assert prepared(first=first, second=second, **days) == list(build(first, second, **days))
    assert prepared(first=grundskola.pk, second=0, **days)
    assert prepared.count(first=grundskola.pk, second=0, **days) == 1
    assert prepared(first=grundskola.pk, second=0, limit=1, offset=1, **days) == []


def test_a_list_is_one_parameter_whatever_its_length(teacher, principal):
    def build(ids: list[int], usernames: list[str]):
        return (
            User.objects.filter(InList("pk", ids) | InList("username", usernames))
            .order_by("pk")
            .values("pk", "username")
        )

    prepared = Prepared(build, ids=list[int], usernames=list[str])
    # Names an array or JSON literal would have to quote.
    tricky = ["NULL", "a,b", "{x}", 'say "hi"', "back\\slash", "o'brien", "Åsa "]
    for username in tricky:
        make_user(username, teacher.role)
    assert [row["username"] for row in prepared(ids=[], usernames=tricky)] == tricky
    for ids, usernames in (
        ([], []),
        ([teacher.pk], []),
        ([], [principal.username, "nobody", "o'brien"]),
        ([teacher.pk, principal.pk, 0], [teacher.username]),
    ):
        assert prepared(ids=ids, usernames=usernames) == list(build(ids, usernames))
    found = prepared(ids=[teacher.pk, principal.pk], usernames=[])
    assert {row["username"] for row in found} == {teacher.username, principal.username}


def test_a_page_read_ahead_is_the_paginators_page_and_count_in_one_statement(db):
    def counted():
        return Subject.objects.order_by().values("pk")

    def rows():
        total = counted().annotate(total=Func(F("pk"), function="COUNT")).values("total")
        return Subject.objects.order_by("code").values("code", total=Subquery(total))

    everything = list(Subject.objects.order_by("code").values("code"))
    assert len(everything) > 7
    reference = Paginator(everything, 3)
    # The last ones are beyond any OFFSET the database takes (they were a 500).
    huge = ("99999999999999999999", "9" * 4000)
    for number in (None, "1", "2", str(reference.num_pages), "999", "0", "-1", "x", "2.0", *huge):
        listed = PreparedList(
            rows=Prepared(rows),
            counted=Prepared(counted),
            arguments={},
            counted_arguments={},
            total="total",
        )
        with CaptureQueriesContext(connection) as queries:
            listed.read_ahead(number, 3)
            page = Paginator(listed, 3).get_page(number)
        expected = reference.get_page(number)
        assert (page.number, list(page.object_list)) == (expected.number, expected.object_list)
        if number in (None, "1", "2", str(reference.num_pages)):
            assert len(queries) == 1
