"""A school's audit log: the page, filtered by action, and its CSV export."""

import functools
from types import SimpleNamespace

from django.core.paginator import Paginator
from django.db.models import F, Func, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.actions import NEVER_AT_A_SCHOOL, AuditAction
from audit.models import AuditEvent
from core.prepared import Prepared, PreparedList, model_columns
from core.widgets import PlainSelect
from etjanster.tables import log_rows_html
from etjanster.views.shared import context_for, school_unit_or_404
from permissions import policy
from permissions.event_rows import event_rows, events_csv
from permissions.schoolyear import today
from permissions.services.exports import log_export_record
from schools.models import SchoolUnit
from web.decorators import etjanster_required
from web.responses import no_store

LOG_PAGE_SIZE = 50


def _school_events(request: HttpRequest, school_unit: SchoolUnit) -> tuple[QuerySet, str]:
    """The school's events, filtered by the `action` parameter when it is a known one."""
    events = (
        policy.school_events(school_unit=school_unit)
        .select_related("school_unit")
        .order_by("-created_at", "-id")
    )
    action = request.GET.get("action", "")
    if action in AuditAction.values:
        return events.filter(action=action), action
    return events, ""


@etjanster_required
@require_GET
def audit_log(request: HttpRequest, code: str) -> HttpResponse:
    school_unit = school_unit_or_404(request, code, today())
    action = request.GET.get("action", "")
    action = action if action in AuditAction.values else ""
    rows, counted = _EVENTS[bool(action)]
    arguments = {"school_id": school_unit.pk, "action": action}
    events = PreparedList(
        rows=rows, counted=counted, arguments=arguments, counted_arguments=arguments, total="total"
    )
    # The page and the count in one statement.
    events.read_ahead(request.GET.get("page"), LOG_PAGE_SIZE)
    page = Paginator(events, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [_event(row, school_unit) for row in page.object_list]
    return render(
        request,
        "etjanster/audit_log.html",
        {
            "school_unit": school_unit,
            "page": page,
            # PERFORMANCE: readable rows (names, Swedish labels, details; one
            # query for the names) written out by etjanster.tables, and the
            # filter's options in Python, not template loops.
            "rows_html": log_rows_html(event_rows(page, school_unit=school_unit)),
            "action_select": _action_select(action),
            "action": action,
        },
    )


def _event(row: dict, school_unit: SchoolUnit) -> SimpleNamespace:
    """An event's columns as `event_rows` reads them; an AuditEvent instance
    per row cost more than the rest of the row. The page's events are this
    school's (the statement's filter)."""
    return SimpleNamespace(**row, school_unit=school_unit)


def _events_statements(by_action: bool) -> tuple[Prepared, Prepared]:
    """The school log's page and count, all events or one action's.

    PERFORMANCE: compiled once (core.prepared) from the policy's queryset."""

    def events(*, school_id: int, action: str):
        found = policy.school_events(school_unit=SchoolUnit(pk=school_id))
        return found.filter(action=action) if by_action else found

    def counted(**arguments):
        return events(**arguments).order_by().values("pk")

    def rows(**arguments):
        # The count of all the rows beside each, for `PreparedList.read_ahead`.
        total = counted(**arguments).annotate(total=Func(F("pk"), function="COUNT"))
        return (
            events(**arguments)
            .order_by("-created_at", "-id")
            .values(*EVENT_COLUMNS, total=Subquery(total.values("total")))
        )

    return (
        Prepared(rows, school_id=int, action=str),
        Prepared(counted, school_id=int, action=str),
    )


EVENT_COLUMNS = model_columns(AuditEvent)
_EVENTS = {by_action: _events_statements(by_action) for by_action in (False, True)}


def _action_select(action: str) -> SafeString:
    """The filter's select, written once per language and chosen action (the
    labels are the code's own, translated): every action that can happen at a
    school, by label."""
    return _action_select_in(translation.get_language(), action)


@functools.lru_cache(maxsize=256)
def _action_select_in(language: str | None, action: str) -> SafeString:
    return PlainSelect(
        choices=[
            ("", _("All")),
            *sorted(
                (choice for choice in AuditAction.choices if choice[0] not in NEVER_AT_A_SCHOOL),
                key=lambda choice: str(choice[1]),
            ),
        ]
    ).render("action", action, {"id": "action"})


@etjanster_required
@require_POST
def audit_log_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The filtered log as CSV, for a spreadsheet; the export itself is audited,
    so it is a POST (the filter stays in the query string, as the page shows it)."""
    school_unit = school_unit_or_404(request, code, today())
    events, action = _school_events(request, school_unit)
    log_export_record(
        context=context_for(request, school_unit),
        school_unit=school_unit,
        filters={"action": action} if action else {},
    )
    response = StreamingHttpResponse(
        events_csv(events, school_unit=school_unit), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="logg-{school_unit.code}.csv"'
    return no_store(response)
