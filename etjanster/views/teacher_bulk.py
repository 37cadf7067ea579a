"""Work on the teachers ticked in the list: grant or remove one subject,
print their slips or e-mail them. Each is confirmed first on a page that
names how many teachers it concerns and what happens to each; each runs in
a constant number of queries however many are ticked."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.once import Repeated, said_repeated, spent_once
from etjanster.forms import TeacherBulkForm
from etjanster.views.shared import (
    SLIP_WAITS,
    confirm_page,
    confirmation_step,
    context_for,
    school_unit_or_404,
    slip_for,
)
from permissions import policy
from permissions.models import Membership, Subject
from permissions.policy import KNOWN_NAMES, known_full_name
from permissions.schoolyear import today
from permissions.services.bulk import memberships_subject_set, slips_mail
from permissions.slips import render_slips
from schools.models import SchoolUnit
from web.decorators import etjanster_required
from web.responses import pdf_response


@etjanster_required
@require_POST
def teacher_bulk(request: HttpRequest, code: str) -> HttpResponse:
    school_unit = school_unit_or_404(request, code, today())
    done_url = reverse("etjanster:teacher_list", args=[school_unit.code])
    form = _bulk_form(request, school_unit)
    usernames = request.POST.getlist("teacher")[: TeacherBulkForm.MOST]
    if not form.is_valid():
        messages.error(
            request, " ".join(error for errors in form.errors.values() for error in errors)
        )
        return redirect(done_url)
    memberships = _ticked(school_unit, usernames)
    if not memberships:
        messages.error(request, _("Tick at least one teacher first."))
        return redirect(done_url)
    action, subject = form.cleaned_data["action"], form.cleaned_data["subject"]
    # Printing changes nothing and may be done again; the rest is done once.
    step = confirmation_step(request, school_unit, grave=False, done_url=done_url)
    if isinstance(step, HttpResponse):
        return step
    confirmed = [m for m in memberships if not m.is_pending]
    if step is not None:
        return _bulk_confirm_page(
            request, school_unit, step, memberships, action=action, subject=subject
        )
    if action == "print":
        return _print(request, school_unit, confirmed, waiting=len(memberships) - len(confirmed))
    try:
        with spent_once(request):
            message = _act(request, school_unit, memberships, confirmed, action, subject)
    except Repeated:
        return said_repeated(request, done_url, credentials=False)
    messages.success(request, message)
    return redirect(done_url)


def _bulk_form(request: HttpRequest, school_unit: SchoolUnit) -> TeacherBulkForm:
    form = TeacherBulkForm(request.POST)
    # Only the subjects of the levels this school reaches: another level's
    # grant opens nothing here (gate condition 3).
    if reached := policy.levels_reached_by(school_unit=school_unit):
        form.fields["subject"].queryset = Subject.objects.filter(level__in=reached).order_by(
            "level", "name"
        )
    return form


def _ticked(school_unit: SchoolUnit, usernames: list[str]) -> list[Membership]:
    """The ticked teachers of this school (any other username is ignored),
    by name, with what the services and slips need, in one query."""
    return list(
        policy.school_memberships(school_unit=school_unit)
        .filter(user__username__in=usernames)
        .select_related("user", "school_unit")
        .order_by(KNOWN_NAMES["known_last_name"], KNOWN_NAMES["known_first_name"], "pk")
    )


def _act(request, school_unit, memberships, confirmed, action, subject) -> str:
    """Grant, remove or mail (inside `spent_once`); the message saying what was done."""
    context = context_for(request, school_unit)
    if action == "mail":
        slips = [(slip_for(m, None), m.user.email) for m in confirmed if m.user.email]
        count = slips_mail(school_unit=school_unit, slips=slips, context=context) if slips else 0
        return ngettext(
            "%(count)d slip is queued for e-mail; it is usually sent within a few minutes.",
            "%(count)d slips are queued for e-mail; they are usually sent within a few minutes.",
            count,
        ) % {"count": count} + _skipped_note(len(memberships) - count)
    result = memberships_subject_set(
        memberships=memberships, subject=subject, granted=action == "grant", context=context
    )
    text = (
        ngettext(
            "%(subject)s was granted to %(count)d teacher.",
            "%(subject)s was granted to %(count)d teachers.",
            result.changed,
        )
        if action == "grant"
        else ngettext(
            "%(subject)s was removed from %(count)d teacher.",
            "%(subject)s was removed from %(count)d teachers.",
            result.changed,
        )
    )
    return text % {"subject": subject.name, "count": result.changed}


def _skipped_note(count: int) -> str:
    if not count:
        return ""
    return " " + ngettext(
        "%(count)d ticked teacher got none: the registration awaits the teacher's "
        "confirmation, or the account has no e-mail address.",
        "%(count)d ticked teachers got none: the registration awaits the teacher's "
        "confirmation, or the account has no e-mail address.",
        count,
    ) % {"count": count}


def _print(request, school_unit, confirmed, *, waiting: int) -> HttpResponse:
    if not confirmed:
        messages.error(request, SLIP_WAITS)
        return redirect("etjanster:teacher_list", code=school_unit.code)
    if waiting:
        # A download leaves the page as it was: the note shows on the next one.
        messages.info(request, _skipped_note(waiting).strip())
    slips = [slip_for(membership, None) for membership in confirmed]
    return pdf_response(render_slips(slips), f"lappar-{school_unit.code}.pdf")


def _bulk_confirm_page(request, school_unit, step, memberships, *, action, subject):
    count = len(memberships)
    consequence = _consequence(action, subject)
    people = [
        (
            known_full_name(membership=membership),
            membership.user.username,
            _person_consequence(membership, action, consequence),
        )
        for membership in memberships
    ]
    title = ngettext(
        "%(what)s – %(count)d teacher",
        "%(what)s – %(count)d teachers",
        count,
    ) % {"what": TeacherBulkForm.ACTIONS[action], "count": count}
    hidden = [("action", action), *[("teacher", m.user.username) for m in memberships]]
    if subject is not None:
        hidden.append(("subject", subject.code))
    return confirm_page(
        request,
        school_unit,
        step,
        title=title,
        facts=[(_("Teachers ticked"), str(count))]
        + ([(_("Subject"), f"{subject.name} ({subject.code})")] if subject else []),
        consequences=[_bulk_consequence(action, count, subject)],
        button=TeacherBulkForm.ACTIONS[action],
        cancel_url=reverse("etjanster:teacher_list", args=[school_unit.code]),
        hidden=hidden,
        people=people,
        people_caption=_("The ticked teachers"),
        danger=action == "revoke",
    )


def _person_consequence(membership: Membership, action: str, consequence: str) -> str:
    if action in ("print", "mail") and membership.is_pending:
        return _("Nothing: the registration awaits the teacher's confirmation")
    if action == "mail" and not membership.user.email:
        return _("Nothing: no e-mail address")
    return consequence


def _consequence(action: str, subject: Subject | None) -> str:
    return {
        "grant": _("Gets %(subject)s (if not already)"),
        "revoke": _("Loses %(subject)s (if granted)"),
        "print": _("A slip without password"),
        "mail": _("A slip without password, by e-mail"),
    }[action] % {"subject": subject.name if subject else ""}


def _bulk_consequence(action: str, count: int, subject: Subject | None) -> str:
    values = {"count": count, "subject": subject.name if subject else ""}
    if action == "grant":
        return (
            ngettext(
                "%(subject)s is granted to %(count)d teacher; the other subjects stay. Protected "
                "material in it opens at once for a confirmed, valid membership.",
                "%(subject)s is granted to %(count)d teachers; their other subjects stay. "
                "Protected material in it opens at once for each confirmed, valid membership.",
                count,
            )
            % values
        )
    if action == "revoke":
        return (
            ngettext(
                "%(subject)s is removed from %(count)d teacher; the other subjects stay. Protected "
                "material in it closes for them through this school at once.",
                "%(subject)s is removed from %(count)d teachers; their other subjects stay. "
                "Protected material in it closes for them through this school at once.",
                count,
            )
            % values
        )
    if action == "print":
        return (
            ngettext(
                "One PDF with a slip for %(count)d teacher: name, username, school and validity, "
                "never a password. A teacher whose registration awaits confirmation gets none.",
                "One PDF with a slip for each of %(count)d teachers: name, username, school and "
                "validity, never a password. Teachers whose registration awaits confirmation "
                "get none.",
                count,
            )
            % values
        )
    return (
        ngettext(
            "A slip (without password) is e-mailed to %(count)d teacher's own address. A teacher "
            "whose registration awaits confirmation, or without an address, gets none.",
            "A slip (without password) is e-mailed to each of %(count)d teachers' own addresses. "
            "Teachers whose registration awaits confirmation, or without an address, get none.",
            count,
        )
        % values
    )
