"""A school's teacher list (filtered, sorted, paged) and the slips printed from it."""

import datetime
from urllib.parse import quote

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from etjanster.forms import SORTS, TeacherBulkForm, TeacherFilterForm
from etjanster.tables import teacher_rows_html
from etjanster.views.shared import (
    STATE_TAG_CSS,
    school_unit_or_404,
    state_tag,
)
from permissions import policy
from permissions.models import SubjectGrant
from permissions.policy import KNOWN_NAMES
from permissions.schoolyear import today
from schools.models import SchoolUnit
from web.decorators import etjanster_required

PAGE_SIZE = 100


@etjanster_required
@require_GET
def teacher_list(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    form = TeacherFilterForm(request.GET)
    # An unknown filter value is ignored rather than an error: the list still shows.
    params = form.cleaned_data if form.is_valid() else {}
    memberships = _filtered(
        policy.school_memberships(school_unit=school_unit), params=params, day=day
    )
    sort = params.get("sort") or "name"
    page = Paginator(memberships.order_by(*SORTS[sort]), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # PERFORMANCE: plain values, not model instances: the page shows five
    # columns of 100 rows, and building 100 users and 200 grants with their
    # subjects as objects cost more than the whole rest of the page. (Taken
    # from the page's slice, so that the count above needs no join.)
    values = page.object_list.values_list(
        "pk",
        "valid_until",
        "confirmed_at",
        "user__username",
        *KNOWN_NAMES.values(),
    )
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "etjanster/teacher_list.html",
        {
            "school_unit": school_unit,
            "form": form,
            "rows_html": teacher_rows_html(
                _teacher_rows(list(values), school_unit=school_unit, day=day)
            ),
            "page": page,
            "query": query_without_page.urlencode(),
            "states": policy.MembershipState,
            "bulk_form": TeacherBulkForm(auto_id="bulk-%s"),
        },
    )


def _filtered(memberships: QuerySet, *, params: dict, day: datetime.date) -> QuerySet:
    """`memberships` in the chosen state and matching the search, if any."""
    if params.get("state"):
        memberships = policy.memberships_in_state(
            memberships=memberships, state=params["state"], today=day
        )
    if query := params.get("q"):
        memberships = memberships.annotate(**KNOWN_NAMES).filter(
            Q(known_first_name__icontains=query)
            | Q(known_last_name__icontains=query)
            | Q(user__username__icontains=query)
            | Q(user__email__icontains=query)
        )
    return memberships


def _teacher_rows(memberships: list[tuple], *, school_unit: SchoolUnit, day) -> list[dict]:
    """The teacher list's rows as plain values for `etjanster.tables`, with one
    query for the subjects of all of them.

    PERFORMANCE: whatever is the same for every row (translations, the state
    tags, the link's pattern, each distinct date) is worked out once here.
    """
    names: dict[int, list[str]] = {membership[0]: [] for membership in memberships}
    grants = (
        SubjectGrant.objects.filter(membership_id__in=names)
        .order_by("subject__name", "subject_id")
        .values_list("membership_id", "subject__name")
    )
    for membership_id, subject_name in grants:
        names[membership_id].append(subject_name)
    tags = {state: state_tag(state) for state in STATE_TAG_CSS}
    # The detail URL differs only by the username: reverse it once.
    placeholder = "-username-"
    detail_url = reverse("etjanster:teacher_detail", args=[school_unit.code, placeholder])
    slip_label = _("Choose %(name)s")
    dates: dict[datetime.date, str] = {}
    rows = []
    for pk, valid_until, confirmed_at, username, first_name, last_name in memberships:
        subjects = names[pk]
        # The list holds live memberships only: unconfirmed is pending.
        state = policy.membership_state(
            valid_until=valid_until,
            subject_count=len(subjects),
            today=day,
            pending=confirmed_at is None,
        )
        if valid_until not in dates:
            dates[valid_until] = date_format(valid_until)
        rows.append(
            {
                "pk": pk,
                "username": username,
                "name": f"{last_name}, {first_name}",
                "slip_label": slip_label % {"name": f"{first_name} {last_name}".strip()},
                "url": detail_url.replace(placeholder, quote(username, safe="")),
                "subjects": ", ".join(subjects) or "–",
                "valid_until": dates[valid_until],
                "state": tags[state],
            }
        )
    return rows
