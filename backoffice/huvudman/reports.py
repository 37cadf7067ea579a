"""/huvudman/rapporter/: what needs the staff's attention at their huvudman
(principals who never logged in, units without an active principal, locked
cards, teachers per unit), each exportable as CSV.

An export is a POST with its CSRF token and is audited (`report_exported`),
like the log's: a link, a prefetcher or another site cannot write an event.
"""

import csv
import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from backoffice.huvudman.site import Page, huvudman_site
from permissions import policy
from permissions.imports.parse import spreadsheet_safe
from permissions.reports import REPORTS
from permissions.schoolyear import today
from permissions.services.exports import report_export_record
from web.request import audit_context


@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    day = today()
    return TemplateResponse(
        request,
        "huvudman/reports.html",
        {
            **huvudman_site.each_context(request),
            "title": gettext("Reports"),
            "reports": [report(staff=request.user, today=day) for report in REPORTS.values()],
        },
    )


class _Line:
    def write(self, value):
        return value


def _cell(value) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).isoformat(timespec="minutes")
    return spreadsheet_safe("" if value is None else value)


@require_POST
def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """One report as CSV: `;`, UTF-8 with BOM, no cell read as a formula."""
    build = REPORTS.get(slug)
    if build is None:
        raise Http404
    report = build(staff=request.user, today=today())
    report_export_record(
        context=audit_context(request),
        report=slug,
        rows=len(report.rows),
        huvudman=policy.huvudman_of_staff(user=request.user),
    )
    writer = csv.writer(_Line(), delimiter=";")
    lines = [writer.writerow(report.columns)]
    lines += [writer.writerow([_cell(value) for value in row]) for row in report.rows]
    response = HttpResponse("\ufeff" + "".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{today().isoformat()}.csv"'
    response["Cache-Control"] = "no-store"
    return response


huvudman_site.page_register(
    Page(route="rapporter/", view=reports, name="reports", title=_("Reports"))
)
huvudman_site.page_register(
    Page(route="rapporter/<slug:slug>/csv/", view=report_csv, name="report_csv", title="")
)
