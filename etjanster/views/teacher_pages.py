"""One teacher's page at a school (state, subjects, what may be done) and the
new password given there."""

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from core.once import Repeated, said_repeated, spent_once
from core.refusals import Refused
from etjanster.forms import SubjectGrantForm
from etjanster.views.shared import (
    confirm_page,
    confirmation_step,
    context_for,
    membership_or_404,
    require,
    school_unit_or_404,
    slip_for,
    state_tag,
    teacher_facts,
    teacher_url,
)
from federation.models import FederatedIdentity
from federation.services import identity_unlink
from permissions import policy
from permissions.models import Membership
from permissions.policy import known_full_name
from permissions.schoolyear import today
from permissions.services.memberships import teacher_password_regenerate
from permissions.services.subjects import membership_grant
from permissions.slips import render_slips
from schools.models import SchoolUnit
from web.decorators import etjanster_required
from web.responses import data_url, no_store
from web.resume import resumed_initial


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_detail(request: HttpRequest, code: str, username: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    membership = membership_or_404(school_unit, username)
    current = list(membership.subjects.order_by("level", "name"))
    form = SubjectGrantForm(
        request.POST or None,
        initial=resumed_initial(request, names={"subjects": True})
        or {"subjects": [subject.code for subject in current]},
        reached_levels=policy.levels_reached_by(school_unit=school_unit),
    )
    if request.method == "POST" and form.is_valid():
        added, removed = membership_grant(
            membership=membership,
            subjects=form.cleaned_data["subjects"],
            context=context_for(request, school_unit),
        )
        if added or removed:
            messages.success(request, _("The subjects were saved."))
        else:
            messages.info(request, _("No change: the subjects were already these."))
        return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)
    return render(
        request,
        "etjanster/teacher_detail.html",
        {
            "school_unit": school_unit,
            "membership": membership,
            "teacher": membership.user,
            "subjects": current,
            "form": form,
            **_state(membership, subject_count=len(current), day=day),
            **_what_may_be_done(request.user, school_unit, membership, day=day),
            # SECURITY: nothing about the account's other schools while this
            # school waits for the teacher's confirmation.
            "other_schools": None if membership.is_pending else membership.other_schools_count(),
            "school_accounts": _school_accounts(school_unit, membership),
        },
    )


def _school_accounts(school_unit: SchoolUnit, membership: Membership) -> list:
    """The teacher's school accounts at this school's huvudman's own IdPs
    (none while the registration waits for the teacher's confirmation)."""
    if membership.is_pending:
        return []
    return list(
        FederatedIdentity.objects.filter(
            user=membership.user, idp__huvudman_id=school_unit.huvudman_id
        ).select_related("idp")
    )


@etjanster_required
@require_POST
def teacher_school_account_unlink(
    request: HttpRequest, code: str, username: str, pk: int
) -> HttpResponse:
    """The principal removes a teacher's link to a school account of the huvudman's IdP."""
    school_unit = school_unit_or_404(request, code, today())
    membership = membership_or_404(school_unit, username)
    require(policy.can_remove_membership(user=request.user, school_unit=school_unit))
    identity = get_object_or_404(
        FederatedIdentity,
        pk=pk,
        user=membership.user,
        idp__huvudman_id=school_unit.huvudman_id,
    )
    identity_unlink(context=context_for(request, school_unit), identity=identity)
    messages.success(request, _("The school account is no longer linked to the teacher's account."))
    return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)


def _state(membership: Membership, *, subject_count: int, day: datetime.date) -> dict:
    state = policy.membership_state(
        valid_until=membership.valid_until,
        subject_count=subject_count,
        today=day,
        pending=membership.is_pending,
    )
    return {
        "state": state,
        "state_tag": state_tag(state),
        "states": policy.MembershipState,
        "pending": membership.is_pending,
    }


def _what_may_be_done(
    user: User, school_unit: SchoolUnit, membership: Membership, *, day: datetime.date
) -> dict:
    """The teacher page's buttons, each as the policy allows it."""
    may_regenerate = policy.can_regenerate_teacher_password(
        user=user, membership=membership, today=day
    )
    return {
        "may_reactivate": not membership.is_pending
        and policy.reactivation_is_open(valid_until=membership.valid_until, today=day),
        "may_remove": policy.can_remove_membership(user=user, school_unit=school_unit),
        "may_export": policy.can_export_teacher_data(user=user, school_unit=school_unit),
        "may_regenerate_password": may_regenerate,
        "may_print_slip": policy.can_print_slip(membership=membership),
        "may_view_as_teacher": policy.can_view_catalogue_as_teacher(
            user=user, membership=membership, today=day
        ),
        "may_send_password_code": not may_regenerate
        and policy.can_send_password_code(user=user, membership=membership, today=day),
    }


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_password(request: HttpRequest, code: str, username: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    membership = membership_or_404(school_unit, username)
    if refusal := policy.password_refusal(user=request.user, membership=membership, today=day):
        raise Refused(refusal)
    step = confirmation_step(
        request, school_unit, grave=True, done_url=teacher_url(membership), credentials=True
    )
    if isinstance(step, HttpResponse):
        return step
    if step is not None:
        return _password_confirm_page(request, school_unit, membership, step)
    try:
        with spent_once(request):
            password = teacher_password_regenerate(
                membership=membership, context=context_for(request, school_unit), today=day
            )
    except Repeated:
        return said_repeated(request, teacher_url(membership), credentials=True)
    return no_store(
        render(
            request,
            "etjanster/teacher_password.html",
            {
                "school_unit": school_unit,
                "membership": membership,
                "password": password,
                "slip_url": data_url(render_slips([slip_for(membership, password)])),
            },
        )
    )


def _password_confirm_page(request, school_unit, membership, step) -> HttpResponse:
    return confirm_page(
        request,
        school_unit,
        step,
        title=_("Give %(name)s a new password?") % {"name": known_full_name(membership=membership)},
        facts=teacher_facts(membership),
        consequences=[
            _(
                "The teacher's current password stops working at once and every session "
                "of the account ends. The new password is shown once, on the next page."
            )
        ],
        button=_("Give a new password"),
        cancel_url=teacher_url(membership),
    )
