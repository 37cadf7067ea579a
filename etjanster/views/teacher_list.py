"""A school's teacher list (filtered, sorted, paged) and the slips printed from it."""

import datetime
from collections.abc import Callable
from urllib.parse import quote

from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.prepared import Prepared
from etjanster.forms import SORTS, TeacherBulkForm, TeacherFilterForm
from etjanster.tables import teacher_rows_html
from etjanster.views.shared import (
    STATE_TAG_CSS,
    school_unit_or_404,
    state_tag,
)
from permissions import policy
from permissions.models import Membership, membership_confirmed_q
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
    state, sort = params.get("state") or "", params.get("sort") or "name"
    if query := params.get("q"):
        found = _searched(school_unit, state=state, sort=sort, day=day, query=query)
    else:
        page_rows, counted = _STATEMENTS[state, sort]
        arguments = {"school_id": school_unit.pk, "day": day}
        found = _Found(
            count=lambda: counted.count(**arguments),
            rows=lambda first, last: page_rows(first=first, last=last, **arguments),
        )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _teacher_rows(page.object_list, school_unit=school_unit, day=day)
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "etjanster/teacher_list.html",
        {
            "school_unit": school_unit,
            "form": form,
            "rows_html": teacher_rows_html(page.object_list),
            "page": page,
            "query": query_without_page.urlencode(),
            "states": policy.MembershipState,
            "bulk_form": TeacherBulkForm(auto_id="bulk-%s", listed=True),
        },
    )


class _Found:
    """The list for Django's paginator: `count()`, and a page (a slice) as
    the rows of one statement, each membership's subjects joined in."""

    def __init__(self, *, count: Callable[[], int], rows: Callable[[int, int], list[dict]]):
        self.count, self.rows = count, rows

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, part: slice) -> list[dict]:
        return self.rows(part.start or 0, part.stop)


def _memberships(school_unit: SchoolUnit, *, state: str, day: datetime.date) -> QuerySet:
    """The school's memberships in the chosen state (all when none is)."""
    memberships = policy.school_memberships(school_unit=school_unit)
    if state:
        memberships = policy.memberships_in_state(memberships=memberships, state=state, today=day)
    return memberships


def _page(memberships: QuerySet, *, sort: str, first: int, last: int) -> QuerySet:
    """Rows `first` (not included) to `last` of `memberships` in the chosen
    order, one row per membership and subject (a membership without one
    has one row, its subject None), a membership's rows together and by
    subject name.

    PERFORMANCE: one statement for the page and its subjects, of the same
    shape for every page (the page is a filter on a row number, not a list
    of ids, nor a LIMIT that the ORM writes into the SQL), so that it is
    compiled once (core.prepared); reading the subjects with the page also
    leaves no moment between two statements where a row could move."""
    order = SORTS[sort]
    numbered = memberships.annotate(list_position=Window(RowNumber(), order_by=list(order))).filter(
        list_position__gt=first, list_position__lte=last
    )
    return (
        Membership.objects.filter(pk__in=numbered.values("pk"))
        .order_by(*order, "subjects__name", "subjects__id")
        .values("pk", "valid_until", "user__username", "subjects__name", **KNOWN_NAMES, **_PENDING)
    )


# Whether the teacher has yet to confirm, not when they did: a timestamp with
# its time zone is parsed in Python, a boolean is not.
_PENDING = {"pending": ExpressionWrapper(~membership_confirmed_q(), output_field=BooleanField())}


def _statements(state: str, sort: str) -> tuple[Prepared, Prepared]:
    """The page and the count of the list without a search, for one state
    filter and order (what changes the statement's shape).

    PERFORMANCE: compiled once (core.prepared) from the policy's querysets;
    building them per request was a fifth of the page.

    SECURITY: the school is a stand-in of the id (`school_memberships`'
    filter), and the id is the school `school_unit_or_404` found for the
    user; the day and the page's bounds are parameters, never frozen."""

    def memberships(*, school_id: int, day: datetime.date) -> QuerySet:
        return _memberships(SchoolUnit(pk=school_id), state=state, day=day)

    def rows(*, school_id: int, day: datetime.date, first: int, last: int) -> QuerySet:
        found = memberships(school_id=school_id, day=day)
        return _page(found, sort=sort, first=first, last=last)

    def counted(*, school_id: int, day: datetime.date) -> QuerySet:
        # The count needs no join (the name the list sorts by is not in it).
        return memberships(school_id=school_id, day=day).order_by().values("pk")

    return (
        Prepared(rows, school_id=int, day=datetime.date, first=int, last=int),
        Prepared(counted, school_id=int, day=datetime.date),
    )


_STATEMENTS = {
    (state, sort): _statements(state, sort)
    for state in ("", *policy.MembershipState.values)
    for sort in SORTS
}


def _searched(
    school_unit: SchoolUnit, *, state: str, sort: str, day: datetime.date, query: str
) -> _Found:
    """The list with a search: its LIKE patterns are computed from the text,
    so it stays with the ORM (core.prepared would refuse it)."""
    memberships = (
        _memberships(school_unit, state=state, day=day)
        .annotate(**KNOWN_NAMES)
        .filter(
            Q(known_first_name__icontains=query)
            | Q(known_last_name__icontains=query)
            | Q(user__username__icontains=query)
            | Q(user__email__icontains=query)
        )
    )
    return _Found(
        count=memberships.count,
        rows=lambda first, last: list(_page(memberships, sort=sort, first=first, last=last)),
    )


def _teacher_rows(found: list[dict], *, school_unit: SchoolUnit, day) -> list[dict]:
    """The teacher list's rows as plain values for `etjanster.tables`, from
    the page's rows (one per membership and subject).

    PERFORMANCE: whatever is the same for every row (translations, the state
    tags, the link's pattern, each distinct date) is worked out once here.
    """
    # The labels translated once (they are lazy), not once a row.
    tags = {
        state: {"label": str(tag["label"]), "css": tag["css"]}
        for state, tag in ((state, state_tag(state)) for state in STATE_TAG_CSS)
    }
    # The detail URL differs only by the username: reverse it once.
    placeholder = "-username-"
    detail_url = reverse("etjanster:teacher_detail", args=[school_unit.code, placeholder])
    slip_label = _("Choose %(name)s")
    dates: dict[datetime.date, str] = {}
    # Each membership's first row, and its subjects, in the page's order.
    memberships: dict[int, tuple[dict, list[str]]] = {}
    for row in found:
        if (membership := memberships.get(row["pk"])) is None:
            membership = memberships[row["pk"]] = (row, [])
        if row["subjects__name"] is not None:
            membership[1].append(row["subjects__name"])
    rows = []
    for membership, subjects in memberships.values():
        valid_until, username = membership["valid_until"], membership["user__username"]
        first_name, last_name = membership["known_first_name"], membership["known_last_name"]
        # The list holds live memberships only: unconfirmed is pending.
        state = policy.membership_state(
            valid_until=valid_until,
            subject_count=len(subjects),
            today=day,
            pending=membership["pending"],
        )
        if valid_until not in dates:
            dates[valid_until] = date_format(valid_until)
        rows.append(
            {
                "pk": membership["pk"],
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
