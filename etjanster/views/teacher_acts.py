"""The one-click acts on a teacher's page: codes by e-mail, the teacher's data,
a slip without password, and reactivation for the new school year."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.refusals import Refused
from core.views import personal_data_download
from etjanster.views.shared import (
    SLIP_WAITS,
    context_for,
    membership_or_404,
    require,
    school_unit_or_404,
    slip_for,
    teacher_url,
)
from permissions import policy
from permissions.data_export import teacher_data_export
from permissions.schoolyear import today
from permissions.services.codes import membership_code_resend, teacher_password_code_send
from permissions.services.school_year import membership_reactivate
from permissions.slips import render_slips
from web.decorators import etjanster_required
from web.responses import pdf_response


@etjanster_required
@require_POST
def teacher_code_resend(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """A new confirmation code to a teacher who has not confirmed this school yet."""
    school_unit = school_unit_or_404(request, code, today())
    membership = membership_or_404(school_unit, username)
    if not membership.is_pending:
        messages.info(request, _("The teacher has already confirmed."))
    else:
        try:
            membership_code_resend(membership=membership, context=context_for(request, school_unit))
        except Refused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                _("A new code was sent to %(email)s.") % {"email": membership.user.email},
            )
    return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)


@etjanster_required
@require_POST
def teacher_password_code(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """The teacher of schools with different principals: a code to the
    teacher's e-mail, with which they choose a new password themselves."""
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    membership = membership_or_404(school_unit, username)
    require(policy.can_send_password_code(user=request.user, membership=membership, today=day))
    try:
        teacher_password_code_send(
            membership=membership, context=context_for(request, school_unit), today=day
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _(
                "A code was sent to %(email)s. With it the teacher chooses a new password; "
                "the current one works until then."
            )
            % {"email": membership.user.email},
        )
    return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)


@etjanster_required
@require_POST
def teacher_data(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """The school's data about one teacher as JSON, on the teacher's request
    (docs/privacy.md); principals only, audited."""
    school_unit = school_unit_or_404(request, code, today())
    membership = membership_or_404(school_unit, username)
    require(policy.can_export_teacher_data(user=request.user, school_unit=school_unit))
    data = teacher_data_export(
        teacher=membership.user, context=context_for(request, school_unit), school_unit=school_unit
    )
    return personal_data_download(data, f"uppgifter-{username}-{school_unit.code}.json")


@etjanster_required
@require_POST
def teacher_slip(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """A slip without password (username, address, validity) to hand out again."""
    school_unit = school_unit_or_404(request, code, today())
    membership = membership_or_404(school_unit, username)
    if not policy.can_print_slip(membership=membership):
        messages.error(request, SLIP_WAITS)
        return redirect(teacher_url(membership))
    return pdf_response(render_slips([slip_for(membership, None)]), f"lapp-{username}.pdf")


@etjanster_required
@require_POST
def teacher_reactivate(request: HttpRequest, code: str, username: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    membership = membership_or_404(school_unit, username)
    try:
        membership_reactivate(
            membership=membership, context=context_for(request, school_unit), today=day
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("The membership was reactivated for this school year."))
    return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)
