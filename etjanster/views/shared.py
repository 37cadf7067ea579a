"""What the E-tjänster school pages share: the look-ups (404 outside the
user's scope), the 403, slips, and the confirmation of what cannot be undone."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ETJANSTER_ROLES, User
from audit.context import AuditContext
from core.once import ONCE_FIELD, once_repeated, once_token, said_repeated
from core.prepared import Prepared, model_columns, model_from_row
from core.refusals import RefusalCode, Refused
from permissions import policy
from permissions.models import Membership, TestAdministrator
from permissions.policy import known_full_name
from permissions.slips import Slip
from schools.models import Huvudman, SchoolUnit
from web.reauth import Reauth, reauth_check, reauth_prompt
from web.request import audit_context
from web.responses import no_store

# --- Lookups: one per resource, 404 outside the user's scope ------------------------


def school_unit_or_404(request: HttpRequest, code: str, day: datetime.date) -> SchoolUnit:
    user = request.user
    statement = _SCHOOL_UNIT.get(user.role) if user.is_authenticated and user.is_active else None
    if statement is None:
        return get_object_or_404(policy.etjanster_school_units(user=user, today=day), code=code)
    found = statement(user_id=user.pk, day=day, code=code, limit=1)
    if not found:
        raise Http404
    school_unit = model_from_row(SchoolUnit, found[0])
    school_unit.huvudman = model_from_row(Huvudman, found[0], "huvudman__")
    return school_unit


def _school_unit_statement(role: str) -> Prepared:
    """PERFORMANCE: every school page looks its school up through the policy's
    queryset; compiled once per role (core.prepared), the same SQL."""

    def build(*, user_id: int, day: datetime.date, code: str):
        stand_in = User(pk=user_id, role=role, is_active=True)
        return (
            policy.etjanster_school_units(user=stand_in, today=day)
            .filter(code=code)
            .values(*model_columns(SchoolUnit), *model_columns(Huvudman, "huvudman__"))
        )

    return Prepared(build, user_id=int, day=datetime.date, code=str)


_SCHOOL_UNIT = {role: _school_unit_statement(role) for role in ETJANSTER_ROLES}


def membership_or_404(school_unit: SchoolUnit, username: str) -> Membership:
    return get_object_or_404(
        policy.school_memberships(school_unit=school_unit).select_related("user", "school_unit"),
        user__username=username,
    )


def test_admin_or_404(school_unit: SchoolUnit, username: str) -> TestAdministrator:
    return get_object_or_404(
        policy.school_test_admins(school_unit=school_unit).select_related("user", "school_unit"),
        user__username=username,
    )


def context_for(request: HttpRequest, school_unit: SchoolUnit) -> AuditContext:
    """Who acts, from where, at this school: what every service here is given."""
    return audit_context(request, school_unit=school_unit)


def require(allowed: bool, reason: RefusalCode | None = None) -> None:
    """Go on, or the 403 page, saying `reason` where there is more to say
    than its heading ("Du får inte göra detta"; `core.middleware.RefusedMiddleware`)."""
    if not allowed:
        raise PermissionDenied if reason is None else Refused(reason)


def teacher_url(membership: Membership) -> str:
    return reverse(
        "etjanster:teacher_detail", args=[membership.school_unit.code, membership.user.username]
    )


# --- Teachers: their state's tag and their slips -----------------------------------------


# How a membership's state looks: the tag's colour (`tag-<css>`) per state.
STATE_TAG_CSS = {
    policy.MembershipState.ACTIVE: "ok",
    policy.MembershipState.AWAITING_CONFIRMATION: "warn",
    policy.MembershipState.AWAITING_REACTIVATION: "warn",
    policy.MembershipState.NO_SUBJECTS: "warn",
}


def state_tag(state: str) -> dict:
    return {"label": policy.MembershipState(state).label, "css": STATE_TAG_CSS[state]}


SLIP_WAITS = gettext_lazy(
    "A slip without password can be printed only once the teacher has confirmed the "
    "registration at this school. Until then the teacher logs in with the username and "
    "password they already have."
)


def slip_for(membership: Membership, password: str | None) -> Slip:
    return Slip(
        name=known_full_name(membership=membership),
        username=membership.user.username,
        school_name=str(membership.school_unit),
        valid_until=membership.valid_until,
        password=password,
    )


def teacher_facts(membership: Membership) -> list:
    return [
        (_("Teacher"), f"{known_full_name(membership=membership)} ({membership.user.username})"),
        (_("School unit"), str(membership.school_unit)),
    ]


# --- Confirmations of what cannot be undone ----------------------------------------------


def repeated_post(request: HttpRequest, done_url: str, *, credentials: bool) -> HttpResponse | None:
    """A form sent again (`core.once`): not carried out; on to `done_url`,
    saying why (and, for `credentials`, that a password or card is shown once)."""
    if request.method == "POST" and once_repeated(request):
        return said_repeated(request, done_url, credentials=credentials)
    return None


def confirmation_step(
    request: HttpRequest,
    school_unit: SchoolUnit,
    *,
    grave: bool,
    done_url: str,
    credentials: bool = False,
):
    """Where a two-step act stands.

    None: the confirmation was posted (and, for a `grave` act, a stale
    session proved the card again): act now, inside `core.once.spent_once`.
    A response: stop with it (the same confirmation was sent before: on to
    `done_url`; or the card locked during re-authentication and the session
    ended). Otherwise `(reauth, status)` for the confirmation page. A GET, or
    a POST without `confirm` (an old one-click form), only ever shows the page.
    """
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        if repeated := repeated_post(request, done_url, credentials=credentials):
            return repeated
        if not grave:
            return None
        problem = reauth_check(request, school_unit=school_unit)
        if problem is None:
            return None
        if problem.ended:
            messages.error(
                request,
                _(
                    "Your matrix card locked after too many wrong answers, and you have "
                    "been logged out. Ask the one who issued your card to unlock it."
                ),
            )
            return redirect(settings.ETJANSTER_LOGIN_URL)
        return problem, 400
    return (reauth_prompt(request) if grave else Reauth()), 200


def confirm_page(
    request: HttpRequest,
    school_unit: SchoolUnit,
    step: tuple,
    *,
    title: str,
    facts: list,
    consequences: list,
    button: str,
    cancel_url: str,
    hidden: list | None = None,
    people: list | None = None,
    people_caption: str = "",
    danger: bool = True,
) -> HttpResponse:
    reauth, status = step
    return no_store(
        render(
            request,
            "etjanster/confirm.html",
            {
                "school_unit": school_unit,
                "title": title,
                "facts": facts,
                "consequences": consequences,
                "button": button,
                "action_url": request.path,
                "cancel_url": cancel_url,
                "hidden": [*(hidden or []), (ONCE_FIELD, once_token())],
                "people": people or [],
                "people_caption": people_caption,
                "danger": danger,
                "reauth": reauth,
            },
            status=status,
        )
    )
