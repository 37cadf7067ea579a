"""The name a school knows a teacher by: one rule in four forms."""

from collections.abc import Iterable
from operator import itemgetter

from django.db.models import (
    Case,
    Exists,
    Expression,
    F,
    FilteredRelation,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat

from accounts.models import Role, User
from core.prepared import InList, Prepared
from permissions.models import Membership
from schools.models import SchoolUnit

# --- The name a school knows a teacher by ------------------------------------------------
#
# SECURITY: an e-mail address is all a school needs to link an existing
# account (`permissions.services.memberships.memberships_register`). Until the account's
# owner confirms the link, the school (and its huvudman) is shown the name it
# typed itself, never the one another school stored on the account: else
# typing an address would reveal the name behind it. A link never confirmed
# (withdrawn, declined) keeps the typed name in the school's history.
#
# One rule, over a scope of memberships (one membership; a school's; a
# huvudman's): a teacher who confirmed none of them is known by the name
# typed on the latest of them; otherwise by the account's own name. The
# national log has no scope and shows every account's own name. Four forms
# of it, kept side by side here: for one membership and for a scope, each
# in Python and in SQL. (Where they differ, by design: a school that had the
# teacher confirmed once, since removed, and now waits on a new link shows
# the typed name on the teacher's page, one membership, but the account's
# name in its log, whose scope includes the old confirmation: the school
# was shown that name then.)


def known_names(*, membership: Membership) -> tuple[str, str]:
    """(first, last): the rule for the scope of one membership, in Python."""
    if membership.confirmed_at is None:
        return membership.typed_first_name, membership.typed_last_name
    return membership.user.first_name, membership.user.last_name


def known_full_name(*, membership: Membership) -> str:
    """The same, as one string ("" when no name is known)."""
    return " ".join(name for name in known_names(membership=membership) if name)


def _known_name_sql(field: str) -> Case:
    return Case(
        When(confirmed_at__isnull=True, then=F(f"typed_{field}")), default=F(f"user__{field}")
    )


# The rule for the scope of one membership, in SQL, as annotations of
# memberships: a list can search and sort by them, and its pager's COUNT
# (which does not use them) joins no accounts.
KNOWN_NAMES = {
    "known_first_name": _known_name_sql("first_name"),
    "known_last_name": _known_name_sql("last_name"),
}


def known_name_scope(*, school_unit=None, huvudman=None, prefix: str = "") -> Q | None:
    """The memberships whose names a school's (or a huvudman's) log may
    show; None for the national log, which shows every account's own name.
    `prefix` is the way to the memberships ("memberships__" from accounts)."""
    if school_unit is not None:
        return Q(**{f"{prefix}school_unit": school_unit})
    if huvudman is not None:
        return Q(**{f"{prefix}school_unit__huvudman": huvudman})
    return None


def names_known_in(*, scope: Q | None, users: Iterable) -> dict[int, str]:
    """The rule for a scope, in Python, for a page of a log: the teachers
    among `users` (anything with `pk` and `role`) who confirmed no
    membership in `scope`, each with the full name typed on the latest (or
    ""). Everyone else keeps their own. One query."""
    teachers = [user.pk for user in users if user.role == Role.TEACHER]
    if scope is None or not teachers:
        return {}
    rows = (
        Membership.objects.filter(scope, user_id__in=teachers)
        .order_by(*_LATEST_LAST)
        .values_list(*_TYPED)
    )
    return _names_known(rows, teachers)


def people_known_at_school(
    *, school_unit_id: int, ids: list[int], usernames: list[str]
) -> tuple[list[dict], dict[int, str]]:
    """The accounts with these ids or usernames (dicts of `PEOPLE`), and
    `names_known_in` for them in a school's scope, in one statement
    compiled once (core.prepared): a school's log page. The accounts are
    joined with their memberships in the scope, oldest first, so the rule
    reads the same memberships the query of `names_known_in` would."""
    rows = _AT_SCHOOL(school_unit_id=school_unit_id, ids=ids, usernames=usernames)
    people = {row["pk"]: row for row in rows}
    teachers = [pk for pk, person in people.items() if person["role"] == Role.TEACHER]
    memberships = (
        _SCOPED(row)
        for row in rows
        if row["scoped_user_id"] is not None and row["role"] == Role.TEACHER
    )
    names = _names_known(memberships, teachers)
    return [{name: person[name] for name in PEOPLE} for person in people.values()], names


_TYPED = ("user_id", "confirmed_at", "typed_first_name", "typed_last_name")
_LATEST_LAST = ("created_at", "pk")


def _names_known(rows: Iterable[tuple], teachers: list[int]) -> dict[int, str]:
    """The rule over a scope's memberships of `teachers` (`_TYPED`, oldest first)."""
    names: dict[int, str] = {}
    confirmed: set[int] = set()
    for user_id, confirmed_at, first_name, last_name in rows:
        if confirmed_at is not None:
            confirmed.add(user_id)
        names[user_id] = " ".join(name for name in (first_name, last_name) if name)
    return {pk: names.get(pk, "") for pk in teachers if pk not in confirmed}


PEOPLE = ("pk", "username", "first_name", "last_name", "role")
_SCOPED = itemgetter(*(f"scoped_{column}" for column in _TYPED))


def _at_school(*, school_unit_id: int, ids: list[int], usernames: list[str]):
    scope = known_name_scope(school_unit=SchoolUnit(pk=school_unit_id), prefix="memberships__")
    scoped = {f"scoped_{column}": F(f"scoped__{column}") for column in _TYPED}
    return (
        User.objects.filter(InList("pk", ids) | InList("username", usernames))
        .annotate(scoped=FilteredRelation("memberships", condition=scope))
        .order_by(*(f"scoped__{column}" for column in _LATEST_LAST))
        .values(*PEOPLE, **scoped)
    )


_AT_SCHOOL = Prepared(_at_school, school_unit_id=int, ids=list[int], usernames=list[str])


def full_name_known_in(*, scope: Q | None, **match) -> Expression:
    """The rule for a scope, in SQL: the full name of the account that
    `match` (lookups on User, with OuterRef) finds, as `scope` knows it. For
    lists that name people in a column, one correlated subquery per row."""
    name = Subquery(
        User.objects.filter(**match)
        .annotate(full_name=Concat("first_name", Value(" "), "last_name"))
        .values("full_name")[:1]
    )
    if scope is None:
        return name
    of_user = {f"user__{key}": value for key, value in match.items()}
    memberships = Membership.objects.filter(scope, **of_user)
    typed = Subquery(
        memberships.order_by("-created_at", "-pk")
        .annotate(full_name=Concat("typed_first_name", Value(" "), "typed_last_name"))
        .values("full_name")[:1]
    )
    waiting = Exists(User.objects.filter(role=Role.TEACHER, **match)) & ~Exists(
        memberships.filter(confirmed_at__isnull=False)
    )
    return Case(When(waiting, then=Coalesce(typed, Value(""))), default=name)
