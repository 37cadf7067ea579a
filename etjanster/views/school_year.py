"""The new school year: last year's teachers reactivated together, and the
others removed after a confirmation naming everyone."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from core.once import Repeated, said_repeated, spent_once
from etjanster.forms import SchoolYearRenewForm
from etjanster.views.shared import (
    confirm_page,
    confirmation_step,
    context_for,
    school_unit_or_404,
    slip_for,
)
from permissions import policy
from permissions.models import Membership
from permissions.policy import known_full_name
from permissions.schoolyear import school_year_label, today
from permissions.services.school_year import school_year_renew
from permissions.slips import render_slips
from web.decorators import etjanster_required
from web.responses import data_url


@etjanster_required
@require_http_methods(["GET", "POST"])
def new_school_year(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    may_remove = policy.can_remove_membership(user=request.user, school_unit=school_unit)
    last_year = (
        policy.school_memberships(school_unit=school_unit)
        .reactivatable(day)
        .select_related("user", "school_unit")
        .order_by("user__last_name", "user__first_name")
    )
    form = SchoolYearRenewForm(request.POST or None, memberships=last_year)
    if request.method == "POST":
        if not form.is_valid():
            return _new_school_year_page(request, school_unit, form, may_remove, day, status=400)
        remove_rest = may_remove and form.cleaned_data["remove_unkept"]
        kept_ids = {membership.pk for membership in form.cleaned_data["keep"]}
        removing = [m for m in form.offered.values() if m.pk not in kept_ids]
        if remove_rest and removing:
            # Removal in bulk: a confirmation naming everyone, and the card again
            # when the session's last proof is stale.
            step = confirmation_step(request, school_unit, grave=True, done_url=request.path)
            if isinstance(step, HttpResponse):
                return step
            if step is not None:
                return _school_year_confirm_page(request, school_unit, step, kept_ids, removing)
        try:
            with spent_once(request):
                renewal = school_year_renew(
                    school_unit=school_unit,
                    keep=form.cleaned_data["keep"],
                    remove_rest=remove_rest,
                    context=context_for(request, school_unit),
                    today=day,
                )
        except Repeated:
            return said_repeated(request, request.path, credentials=False)
        return _renewed_page(request, school_unit, renewal)
    return _new_school_year_page(request, school_unit, form, may_remove, day)


def _renewed_page(request, school_unit, renewal) -> HttpResponse:
    slips = [slip_for(membership, None) for membership in renewal.kept]
    return render(
        request,
        "etjanster/new_school_year_done.html",
        {
            "school_unit": school_unit,
            "kept": renewal.kept,
            "removed": renewal.removed,
            "slips_url": data_url(render_slips(slips)) if slips else None,
        },
    )


def _school_year_confirm_page(request, school_unit, step, kept_ids, removing) -> HttpResponse:
    # The service's own rule: only a confirmed membership elsewhere keeps the account.
    staying = Membership.objects.accounts_kept_besides(removing)
    people = [
        (
            known_full_name(membership=m),
            m.user.username,
            _("Removed from this school; the account stays for other schools")
            if m.user_id in staying
            else _("Last school: the account is deleted after 30 days unless restored"),
        )
        for m in removing
    ]
    return confirm_page(
        request,
        school_unit,
        step,
        title=_("Remove %(count)d teachers from %(school)s?")
        % {"count": len(removing), "school": school_unit.name},
        facts=[
            (_("School unit"), str(school_unit)),
            (_("Reactivated"), str(len(kept_ids))),
            (_("Removed"), str(len(removing))),
        ],
        consequences=[_removal_consequence(removing, staying)],
        button=_("Reactivate the kept and remove the others"),
        cancel_url=reverse("etjanster:new_school_year", args=[school_unit.code]),
        hidden=[("keep", pk) for pk in sorted(kept_ids)] + [("remove_unkept", "yes")],
        people=people,
        people_caption=_("Teachers who will be removed"),
    )


def _removal_consequence(removing: list[Membership], staying) -> str:
    """What the removal does to the accounts: which are removed with it, and
    that each can be restored here within 30 days."""
    removed = sum(1 for m in removing if m.user_id not in staying)
    if not removed:
        return _(
            "Each of them keeps the account for another school and can be restored here "
            "within 30 days."
        )
    return ngettext(
        "%(removed)d of them has no other school: the account is closed at once and deleted "
        "with its personal data after 30 days. Until then you can restore it here, under "
        "“Removed teachers”, like the others.",
        "%(removed)d of them have no other school: their accounts are closed at once and "
        "deleted with their personal data after 30 days. Until then you can restore them "
        "here, under “Removed teachers”, like the others.",
        removed,
    ) % {"removed": removed}


def _new_school_year_page(request, school_unit, form, may_remove, day, status=200):
    return render(
        request,
        "etjanster/new_school_year.html",
        {
            "school_unit": school_unit,
            "form": form,
            "memberships": list(form.offered.values()),
            "may_remove": may_remove,
            "school_year": school_year_label(day),
        },
        status=status,
    )
