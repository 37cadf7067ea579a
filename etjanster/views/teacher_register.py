"""Registering a teacher at a school (or the principal as one), and the page
with the new teacher's slip."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.once import Repeated, once_token, said_repeated, spent_once
from core.refusals import Refused
from etjanster.forms import TeacherRegisterForm
from etjanster.views.shared import context_for, repeated_post, school_unit_or_404, slip_for
from permissions import policy
from permissions.schoolyear import today
from permissions.services.memberships import membership_register, membership_register_self
from permissions.slips import render_slips, send_slip_by_mail
from web.decorators import etjanster_required
from web.responses import data_url, no_store
from web.resume import resumed_initial


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_register(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    form = TeacherRegisterForm(
        request.POST or None,
        initial=resumed_initial(
            request,
            names={"first_name": False, "last_name": False, "email": False, "subjects": True},
        ),
        reached_levels=policy.levels_reached_by(school_unit=school_unit),
    )
    # The result page reloaded (its password is shown only once): the teacher
    # is registered already, and nothing is done again.
    teachers = reverse("etjanster:teacher_list", args=[school_unit.code])
    if repeated := repeated_post(request, teachers, credentials=True):
        return repeated
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with spent_once(request):
                registration = membership_register(
                    school_unit=school_unit,
                    context=context_for(request, school_unit),
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    subjects=data["subjects"],
                    today=day,
                )
        except Refused as refusal:
            form.add_error("email", str(refusal))
        except Repeated:
            return said_repeated(request, teachers, credentials=True)
        else:
            return _registered(request, school_unit, registration, mail=data["send_email"])
    return render(
        request,
        "etjanster/teacher_register.html",
        {"school_unit": school_unit, "form": form, "once": once_token()},
    )


def _registered(request, school_unit, registration, *, mail: bool) -> HttpResponse:
    slip = slip_for(registration.membership, registration.password)
    # A linked account's owner gets the confirmation code instead (the
    # service mailed it), and no slip: the link waits for that code, and a
    # slip saying "use the login you have" would tell them nothing of it.
    mail = mail and not registration.linked
    if mail:
        send_slip_by_mail(slip=slip, email=registration.user.email)
    subjects = list(registration.membership.subjects.order_by("name"))
    return no_store(
        render(
            request,
            "etjanster/teacher_registered.html",
            {
                "school_unit": school_unit,
                "registration": registration,
                "subjects": subjects,
                "slip_url": None if registration.linked else data_url(render_slips([slip])),
                "mailed": mail,
            },
        )
    )


@etjanster_required
@require_POST
def teacher_register_self(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    try:
        registration = membership_register_self(
            school_unit=school_unit, context=context_for(request, school_unit), today=day
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("etjanster:teacher_list", code=school_unit.code)
    return _registered(request, school_unit, registration, mail=False)
