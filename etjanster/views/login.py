"""The E-tjänster door: the password step, the matrix card step, and the
principal's or test administrator's own account ("Mitt konto")."""

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.doors import Door
from accounts.models import CARD_COLUMNS, CARD_ROWS, CardState, User
from accounts.services.cards import AnswerOutcome, card_answer, card_challenge, current_card
from accounts.services.login import CheckOutcome, login_audit
from accounts.sessions import authentication_time_store
from core.i18n import localized_path
from core.refusals import RefusalCode, Refused
from notifications.preferences import choices_for
from permissions.policy import (
    can_use_etjanster,
    can_use_portal,
    credentials_issuer,
    etjanster_appointment_ended,
    is_etjanster_half_logged_in,
    is_etjanster_verified,
)
from permissions.schoolyear import today
from web.decorators import etjanster_required
from web.forms import OwnPasswordChangeForm, PasswordLoginForm, clock
from web.login import (
    ETJANSTER_HOME,
    NOT_ANSWERS,
    account_closed_page,
    card_problem_page,
    check_login_form,
    login_error,
    own_password_change_view,
    safe_next,
    trusting,
    with_next,
    wrong_door,
)
from web.request import audit_context
from web.saml import federation_offered


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def etjanster_login(request: HttpRequest) -> HttpResponse:
    """Step 1: username and password. Step 2 is the matrix card."""
    home = localized_path(ETJANSTER_HOME)
    next_url = safe_next(request, home)
    matrix_url = with_next(reverse("etjanster:matrix"), next_url, home)
    user = request.user
    if is_etjanster_verified(user=user):
        return redirect(next_url)
    if is_etjanster_half_logged_in(user=user):
        return redirect(matrix_url)
    if request.method == "GET" and can_use_portal(user=user):
        # A teacher who followed "E-tjänster" from Bedömningsportalen: say
        # why the login form shows, instead of leaving them to try.
        messages.info(
            request,
            _(
                "You are logged in to Bedömningsportalen as a teacher. E-tjänster is for "
                "principals and test administrators, with a login of its own and a matrix card; "
                "your material is in Bedömningsportalen."
            ),
        )

    form = PasswordLoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        check = check_login_form(request, form, Door.ETJANSTER)
        if check.outcome == CheckOutcome.INACTIVE:
            return account_closed_page(
                request, user=check.account, problem=RefusalCode.ACCOUNT_INACTIVE
            )
        if check.user is None:
            error = login_error(check)
        elif (refused := _refused_here(request, check.user)) is not None:
            return refused
        else:
            return _password_step_done(request, check.user, matrix_url)
    return render(
        request,
        "accounts/etjanster_login.html",
        {
            "form": form,
            "error": error,
            "next": next_url if next_url != home else "",
            "federation": federation_offered(),
        },
    )


def _refused_here(request: HttpRequest, person: User) -> HttpResponse | None:
    """The page for a right password of an account that may not log in here
    (a teacher, another role, an ended appointment); None for one that may."""
    if can_use_portal(user=person):
        return wrong_door(
            request,
            user=person,
            door=Door.ETJANSTER,
            refused=RefusalCode.TEACHER_ACCOUNT,
            belongs="etjanster",
        )
    if not can_use_etjanster(user=person):
        return wrong_door(
            request,
            user=person,
            door=Door.ETJANSTER,
            refused=RefusalCode.WRONG_ROLE,
            belongs="admin",
        )
    if etjanster_appointment_ended(user=person, today=today()):
        login_audit(
            user=person,
            context=audit_context(request),
            door=Door.ETJANSTER,
            factor="password",
            refused=RefusalCode.APPOINTMENT_ENDED,
        )
        return account_closed_page(request, user=person, problem=RefusalCode.APPOINTMENT_ENDED)
    return None


def _password_step_done(request: HttpRequest, person: User, matrix_url: str) -> HttpResponse:
    """On to the card step, or the page saying why the card cannot be used."""
    card = current_card(user=person)
    if card is None or card.state == CardState.LOCKED:
        problem = RefusalCode.NO_CARD if card is None else RefusalCode.CARD_LOCKED
        login_audit(
            user=person,
            context=audit_context(request),
            door=Door.ETJANSTER,
            factor="password",
            refused=problem,
        )
        return card_problem_page(request, user=person, problem=problem)
    login_audit(
        user=person,
        context=audit_context(request),
        door=Door.ETJANSTER,
        factor="password",
        first_step=True,
    )
    # SECURITY: a new session for the half-logged-in state (Django's
    # login cycles the key); it opens nothing until the card step.
    auth_login(request, person)
    return trusting(redirect(matrix_url), request, person)


# SECURITY: every field may be a card cell (their names vary), so all are hidden
# from error reports.
@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def etjanster_matrix(request: HttpRequest) -> HttpResponse:
    """Step 2: the three pinned cells of the user's own card."""
    home = localized_path(ETJANSTER_HOME)
    next_url = safe_next(request, home)
    user = request.user
    if not is_etjanster_half_logged_in(user=user):
        if is_etjanster_verified(user=user):
            return redirect(next_url)
        return redirect(with_next(localized_path(settings.ETJANSTER_LOGIN_URL), next_url, home))

    error = ""
    if request.method == "POST":
        answers = {name: value for name, value in request.POST.items() if name not in NOT_ANSWERS}
        result = card_answer(user=user, answers=answers, context=audit_context(request))
        if result.outcome == AnswerOutcome.ACCEPTED:
            django_otp.login(request, result.device)
            # SECURITY (ASVS 7.2.4): a new session key after the second factor.
            request.session.cycle_key()
            authentication_time_store(request=request)
            return redirect(next_url)
        if result.outcome == AnswerOutcome.LOCKED:
            return _leave_with_card_problem(request, RefusalCode.CARD_LOCKED)
        if result.outcome == AnswerOutcome.NO_CARD:
            return _leave_with_card_problem(request, RefusalCode.NO_CARD)
        error = _answer_error(result)

    try:
        cells = card_challenge(user=user)
    except Refused as refused:
        # CARD_NOT_ACTIVE: the card was locked (by answers from elsewhere) meanwhile.
        problem = refused.code
        if problem == RefusalCode.CARD_NOT_ACTIVE:
            problem = RefusalCode.CARD_LOCKED
        return _leave_with_card_problem(request, problem)
    return _matrix_page(request, cells, error=error, next_url=next_url if next_url != home else "")


def _answer_error(result) -> str:
    """What the card step says about an answer that did not log in."""
    if result.outcome == AnswerOutcome.EXPIRED:
        return _("The time for these cells ran out. Answer the new cells below.")
    if result.outcome == AnswerOutcome.INCOMPLETE:
        return _("Fill in all three cells. Nothing was counted.")
    if result.outcome == AnswerOutcome.TOO_SOON:
        return _("Wait a moment: try again at %(time)s.") % {"time": clock(result.retry_at)}
    # SECURITY: never which cell was wrong.
    error = _("The answer did not match your card.")
    if result.retry_at is not None:
        error += " " + _("Try again at %(time)s.") % {"time": clock(result.retry_at)}
    return error


def _matrix_page(request: HttpRequest, cells, *, error: str, next_url: str) -> HttpResponse:
    grid = [
        [{"name": f"{column}{row}", "asked": f"{column}{row}" in cells} for column in CARD_COLUMNS]
        for row in CARD_ROWS
    ]
    card = current_card(user=request.user)
    return render(
        request,
        "accounts/etjanster_matrix.html",
        {
            # The holder can tell which card is meant: the serial is on the paper.
            "card": card,
            "cells": cells,
            "grid": grid,
            "columns": CARD_COLUMNS,
            "error": error,
            "next": next_url,
        },
    )


def _leave_with_card_problem(request: HttpRequest, problem: RefusalCode) -> HttpResponse:
    """End the half-logged-in session and say why the card cannot be used."""
    user = request.user
    auth_logout(request)
    return card_problem_page(request, user=user, problem=problem)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@csrf_protect
@never_cache
@etjanster_required
@require_http_methods(["GET", "POST"])
def etjanster_account(request: HttpRequest) -> HttpResponse:
    """A principal's or test administrator's own account: the card it has and
    a password change (throttled and audited; the other sessions end)."""
    user = request.user
    form = OwnPasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        error = own_password_change_view(request, form, door=Door.ETJANSTER)
        if error is None:
            messages.success(request, _("Your password has been changed."))
            return redirect("etjanster:account")
        form.add_error("old_password", error)
    return render(
        request,
        "accounts/etjanster_account.html",
        {
            "form": form,
            "card": current_card(user=user),
            "issuer": credentials_issuer(user=user),
            "notification_choices": choices_for(user=user),
        },
    )
