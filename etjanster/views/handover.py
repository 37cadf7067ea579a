"""A principal's handover ("Överlämning") of a school: the page, and the same
content as a tagged PDF (`core.pdf`), whose download is audited."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.pdf import render_pdf
from core.refusals import RefusalCode
from etjanster.views.shared import context_for, require, school_unit_or_404
from permissions import policy
from permissions.handover import LOG_DAYS, handover_read
from permissions.schoolyear import today
from permissions.services.exports import handover_print_record
from schools.models import SchoolUnit
from web.decorators import etjanster_required
from web.responses import no_store, pdf_response


def _handover_school(request: HttpRequest, code: str) -> SchoolUnit:
    school_unit = school_unit_or_404(request, code, today())
    require(
        policy.can_view_handover(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_HANDOVER,
    )
    return school_unit


def _context(school_unit: SchoolUnit) -> dict:
    return {
        "school_unit": school_unit,
        "handover": handover_read(school_unit=school_unit, today=today()),
        "states": policy.MembershipState,
        "log_days": LOG_DAYS,
        "printed_at": timezone.localtime(),
    }


@etjanster_required
@require_GET
def handover(request: HttpRequest, code: str) -> HttpResponse:
    school_unit = _handover_school(request, code)
    return no_store(render(request, "etjanster/handover.html", _context(school_unit)))


@etjanster_required
@require_POST
def handover_pdf(request: HttpRequest, code: str) -> HttpResponse:
    school_unit = _handover_school(request, code)
    handover_print_record(context=context_for(request, school_unit), school_unit=school_unit)
    pdf = render_pdf(
        template="pdf/handover.html",
        title=_("Handover of %(school)s") % {"school": school_unit.name},
        context=_context(school_unit),
    )
    return pdf_response(pdf, f"overlamning-{school_unit.code}.pdf")
