"""The acts on one test administrator, one view and one address each: a new
password or card, unlocking the card, deactivating and reactivating."""

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any, NamedTuple

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.services.cards import card_issue, card_unlock
from accounts.services.passwords import password_regenerate
from audit.context import AuditContext
from core.once import Repeated, said_repeated, spent_once
from core.refusals import RefusalCode, Refused
from etjanster.views.shared import (
    confirm_page,
    confirmation_step,
    context_for,
    require,
    school_unit_or_404,
    test_admin_or_404,
)
from etjanster.views.test_admins import test_admin_credentials
from permissions import policy
from permissions.models import TestAdministrator
from permissions.schoolyear import today
from permissions.services import appointments
from schools.models import SchoolUnit
from web.decorators import etjanster_required


@dataclasses.dataclass(frozen=True)
class _Target:
    """The test administrator acted on, found below the school, and the list to return to."""

    school_unit: SchoolUnit
    appointment: TestAdministrator
    day: datetime.date
    done_url: str


def _target(request: HttpRequest, code: str, username: str) -> _Target:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    require(
        policy.can_manage_test_admins(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_TEST_ADMINS,
    )
    return _Target(
        school_unit=school_unit,
        appointment=test_admin_or_404(school_unit, username),
        day=day,
        done_url=reverse("etjanster:test_admin_list", args=[school_unit.code]),
    )


# --- Acts that show a confirmation first (GET, or a POST without `confirm`) ---------------


class _Question(NamedTuple):
    title: Promise
    consequence: Promise
    button: Promise
    danger: bool = True


PASSWORD_QUESTION = _Question(
    gettext_lazy("Give %(name)s a new password?"),
    gettext_lazy(
        "The current password stops working at once and the test administrator is "
        "logged out. The new password is shown once, on the next page."
    ),
    gettext_lazy("Give a new password"),
)
CARD_QUESTION = _Question(
    gettext_lazy("Give %(name)s a new matrix card?"),
    gettext_lazy(
        "The current card stops working at once and the test administrator is logged "
        "out. The new card is shown once, on the next page, to print."
    ),
    gettext_lazy("Issue a new card"),
    danger=False,
)
DEACTIVATE_QUESTION = _Question(
    gettext_lazy("Deactivate %(name)s?"),
    gettext_lazy(
        "The test administrator can no longer log in and is logged out at once. You can "
        "reactivate the account later; it is never deleted."
    ),
    gettext_lazy("Deactivate"),
)


@etjanster_required
@require_http_methods(["GET", "POST"])
def test_admin_password(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """A new password, shown once; a stale session proves the card first."""
    target = _target(request, code, username)
    stop = _unless_confirmed(request, target, PASSWORD_QUESTION, grave=True, credentials=True)
    if stop is not None:
        return stop
    user = target.appointment.user
    return _carry_out(
        request,
        target,
        lambda context: (password_regenerate(user=user, context=context), None),
        credentials=True,
    )


@etjanster_required
@require_http_methods(["GET", "POST"])
def test_admin_card(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """A new matrix card, shown once; a stale session proves the card first."""
    target = _target(request, code, username)
    stop = _unless_confirmed(request, target, CARD_QUESTION, grave=True, credentials=True)
    if stop is not None:
        return stop
    user = target.appointment.user
    return _carry_out(
        request,
        target,
        lambda context: (None, card_issue(user=user, context=context)),
        credentials=True,
    )


@etjanster_required
@require_http_methods(["GET", "POST"])
def test_admin_deactivate(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """No more logins and the sessions end; never deleted, so it can be reactivated."""
    target = _target(request, code, username)
    stop = _unless_confirmed(request, target, DEACTIVATE_QUESTION, grave=False, credentials=False)
    if stop is not None:
        return stop
    return _carry_out(
        request,
        target,
        lambda context: appointments.test_admin_deactivate(
            appointment=target.appointment, context=context
        ),
        done=_("The test administrator was deactivated."),
    )


def _unless_confirmed(
    request: HttpRequest, target: _Target, question: _Question, *, grave: bool, credentials: bool
) -> HttpResponse | None:
    """None once the act is confirmed (and, for a `grave` one, a stale session
    proved the card again); else what to answer instead: the confirmation page,
    or `confirmation_step`'s own response."""
    step = confirmation_step(
        request,
        target.school_unit,
        grave=grave,
        done_url=target.done_url,
        credentials=credentials,
    )
    if step is None or isinstance(step, HttpResponse):
        return step
    name = target.appointment.user.get_full_name()
    return confirm_page(
        request,
        target.school_unit,
        step,
        title=question.title % {"name": name},
        facts=[
            (_("Test administrator"), f"{name} ({target.appointment.user.username})"),
            (_("School unit"), str(target.school_unit)),
        ],
        consequences=[str(question.consequence)],
        button=str(question.button),
        cancel_url=target.done_url,
        danger=question.danger,
    )


# --- Acts done at once, by POST only -----------------------------------------------------


def _post_only() -> HttpResponse:
    # Asked after the look-ups, as by the acts above: whatever the method,
    # another school is a 404 and a user who may not manage test
    # administrators gets the 403.
    return HttpResponse(status=405, headers={"Allow": "POST"})


@etjanster_required
@require_http_methods(["GET", "POST"])
def test_admin_card_unlock(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """The same card again, after it locked on wrong answers."""
    target = _target(request, code, username)
    if request.method != "POST":
        return _post_only()
    user = target.appointment.user
    return _carry_out(
        request,
        target,
        lambda context: card_unlock(user=user, context=context),
        done=_("The card was unlocked."),
    )


@etjanster_required
@require_http_methods(["GET", "POST"])
def test_admin_reactivate(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """The appointment again, for this school year."""
    target = _target(request, code, username)
    if request.method != "POST":
        return _post_only()
    return _carry_out(
        request,
        target,
        lambda context: appointments.test_admin_reactivate(
            appointment=target.appointment, context=context, today=target.day
        ),
        done=_("The test administrator was reactivated for this school year."),
    )


# --- Carrying an act out -----------------------------------------------------------------


def _carry_out(
    request: HttpRequest,
    target: _Target,
    act: Callable[[AuditContext], Any],
    *,
    credentials: bool = False,
    done: str = "",
) -> HttpResponse:
    """`act` once, then: for `credentials` (it returns `(password, card)`) the
    page that shows them; else back to the list, saying `done` or the refusal."""
    context = context_for(request, target.school_unit)
    try:
        # What was done is said only after the transaction: a repeated
        # confirmation rolls the act back (`core.once`).
        with spent_once(request):
            result = act(context)
    except Refused as refusal:
        messages.error(request, str(refusal))
    except Repeated:
        return said_repeated(request, target.done_url, credentials=credentials)
    else:
        if credentials:
            password, card = result
            return test_admin_credentials(
                request, target.school_unit, target.appointment, password, card
            )
        messages.success(request, done)
    return redirect(target.done_url)
