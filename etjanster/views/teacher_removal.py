"""Removing a teacher from a school (confirmed first), and the removed
teachers that can still be restored within 30 days."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.once import Repeated, said_repeated, spent_once
from core.refusals import RefusalCode, Refused
from etjanster.views.shared import (
    confirm_page,
    confirmation_step,
    context_for,
    membership_or_404,
    repeated_post,
    require,
    school_unit_or_404,
    teacher_facts,
    teacher_url,
)
from permissions import policy
from permissions.models import Membership
from permissions.policy import known_full_name
from permissions.schoolyear import today
from permissions.services.memberships import membership_remove, membership_restore
from schools.models import SchoolUnit
from web.decorators import etjanster_required


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_remove(request: HttpRequest, code: str, username: str) -> HttpResponse:
    school_unit = school_unit_or_404(request, code, today())
    # Sent again after the removal (a reload, a second tab): the teacher is
    # no longer here to find, so this is asked before the look-up.
    done_url = reverse("etjanster:teacher_list", args=[school_unit.code])
    if repeated := repeated_post(request, done_url, credentials=False):
        return repeated
    membership = membership_or_404(school_unit, username)
    require(
        policy.can_remove_membership(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_REMOVES,
    )
    name = known_full_name(membership=membership)
    others = membership.other_schools_count()
    # Closing the account (deleted after 30 days) asks for the card again.
    step = confirmation_step(request, school_unit, grave=others == 0, done_url=done_url)
    if isinstance(step, HttpResponse):
        return step
    if step is not None:
        return _remove_confirm_page(
            request, school_unit, membership, step, name=name, others=others
        )
    pending = membership.is_pending
    try:
        with spent_once(request):
            deleted = membership_remove(
                membership=membership, context=context_for(request, school_unit)
            )
    except Repeated:
        return said_repeated(request, done_url, credentials=False)
    messages.success(request, _removed_message(name, pending=pending, deleted=deleted))
    return redirect("etjanster:teacher_list", code=school_unit.code)


def _remove_confirm_page(
    request: HttpRequest,
    school_unit: SchoolUnit,
    membership: Membership,
    step: tuple,
    *,
    name: str,
    others: int,
) -> HttpResponse:
    if membership.is_pending:
        # SECURITY: nothing about the account's other schools while the
        # teacher has not confirmed this one (as on the teacher's page).
        consequence = _("The registration is withdrawn; the teacher's account is not affected.")
    elif others:
        consequence = _(
            "%(name)s loses access through this school at once. The account stays for the "
            "teacher's other schools, and you can restore the membership here within 30 days."
        ) % {"name": name}
    else:
        consequence = _(
            "This is the teacher's last school, so the account is closed at once: the teacher "
            "is logged out and cannot log in. After 30 days the account is deleted with its "
            "personal data; until then you can restore it here, under “Removed teachers”, "
            "with the same subjects."
        )
    return confirm_page(
        request,
        school_unit,
        step,
        title=_("Remove %(name)s from %(school)s?") % {"name": name, "school": school_unit.name},
        facts=teacher_facts(membership),
        consequences=[consequence],
        button=_("Withdraw the registration")
        if membership.is_pending
        else _("Remove from this school")
        if others
        else _("Remove and close the account"),
        cancel_url=teacher_url(membership),
    )


def _removed_message(name: str, *, pending: bool, deleted: bool) -> str:
    if pending and not deleted:
        return _("The registration of %(name)s was withdrawn.") % {"name": name}
    if deleted:
        return _(
            "%(name)s was removed. It was the last school, so the account is closed and is "
            "deleted after 30 days. Changed your mind? “Removed teachers” restores it until then."
        ) % {"name": name}
    return _(
        "%(name)s was removed from this school; the account remains for other schools. "
        "Changed your mind? “Removed teachers” restores it within 30 days."
    ) % {"name": name}


@etjanster_required
@require_GET
def teacher_removed_list(request: HttpRequest, code: str) -> HttpResponse:
    """Memberships removed in the last 30 days that can still be restored."""
    school_unit = school_unit_or_404(request, code, today())
    require(
        policy.can_restore_membership(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_REMOVES,
    )
    removed = (
        policy.restorable_memberships(school_unit=school_unit, now=timezone.now())
        .select_related("user")
        .order_by("-removed_at", "pk")
    )
    return render(
        request,
        "etjanster/teacher_removed.html",
        {
            "school_unit": school_unit,
            "removed": [
                (membership, membership.removed_at + policy.RESTORE_WINDOW)
                for membership in removed
            ],
        },
    )


@etjanster_required
@require_POST
def teacher_restore(request: HttpRequest, code: str, membership_id: int) -> HttpResponse:
    school_unit = school_unit_or_404(request, code, today())
    require(
        policy.can_restore_membership(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_REMOVES,
    )
    membership = get_object_or_404(
        Membership.objects.filter(school_unit=school_unit).select_related("user"),
        pk=membership_id,
    )
    if membership.removed_at is None:
        # Restored already (the button sent twice, a second tab): say so.
        messages.info(
            request,
            _("%(name)s is already a teacher at this school again.")
            % {"name": known_full_name(membership=membership)},
        )
        return redirect(teacher_url(membership))
    try:
        membership_restore(
            membership=membership, context=context_for(request, school_unit), now=timezone.now()
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("etjanster:teacher_removed", code=school_unit.code)
    messages.success(
        request,
        _("%(name)s is a teacher at this school again, with the same subjects.")
        % {"name": known_full_name(membership=membership)},
    )
    return redirect(teacher_url(membership))
