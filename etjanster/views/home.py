"""E-tjänster's start page: the user's schools, each with what needs attention."""

import datetime

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import ETJANSTER_ROLES, User
from core.prepared import Prepared
from permissions import policy
from permissions.models import Membership, TestAdministrator
from permissions.schoolyear import school_year_label, today
from web.decorators import etjanster_required


@etjanster_required
@require_GET
def etjanster_home(request: HttpRequest) -> HttpResponse:
    day = today()
    return render(
        request,
        "etjanster/etjanster_home.html",
        {
            "school_units": school_units_with_counts(user=request.user, day=day),
            "school_year": school_year_label(day),
        },
    )


# The columns the page shows.
COLUMNS = ("code", "name", "active_count", "awaiting_count", "no_subjects_count")
ATTENTION = "test_admin_attention_count"


def school_units_with_counts(*, user: User, day: datetime.date) -> list[dict]:
    """The user's school units with the four counts, as `_school_units_with_counts`
    says, from its statement compiled once (core.prepared): the query is the
    page's greatest cost to build, a small one to run."""
    return _PREPARED[user.role](user_id=user.pk, day=day)


def _prepared(role: str) -> Prepared:
    def build(user_id: int, day: datetime.date) -> QuerySet:
        # Which units a user administers depends on the role (the policy's
        # branches), so there is one statement per role; the rest are values.
        stand_in = User(pk=user_id, role=role, is_active=True)
        return _school_units_with_counts(user=stand_in, day=day).values(*COLUMNS, ATTENTION)

    return Prepared(build, user_id=int, day=datetime.date)


_PREPARED = {role: _prepared(role) for role in ETJANSTER_ROLES}


def _school_units_with_counts(*, user: User, day: datetime.date) -> QuerySet:
    live = Membership.objects.live().filter(school_unit=OuterRef("pk"))
    states = policy.MembershipState

    def in_state(state):
        return policy.memberships_in_state(memberships=live, state=state, today=day)

    def count(queryset):
        return Coalesce(
            Subquery(
                queryset.order_by().values("school_unit").annotate(n=Count("pk")).values("n")[:1]
            ),
            0,
        )

    # One query for all schools and all four counts.
    return policy.etjanster_school_units(user=user, today=day).annotate(
        # The same states as the teacher list, from the one rule in policy.
        active_count=count(in_state(states.ACTIVE)),
        awaiting_count=count(in_state(states.AWAITING_REACTIVATION)),
        no_subjects_count=count(in_state(states.NO_SUBJECTS)),
        test_admin_attention_count=count(
            policy.test_admins_needing_attention(
                appointments=TestAdministrator.objects.filter(school_unit=OuterRef("pk")),
                today=day,
            )
        ),
    )
