"""The two login doors: E-tjänster (password + matrix card) and
Bedömningsportalen (password), and one logout for both."""

import datetime
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import PasswordLoginForm, clock, with_retry_time
from accounts.models import (
    CARD_COLUMNS,
    CARD_ROWS,
    CardState,
)
from accounts.network import audit_context
from accounts.selectors import card_contacts
from accounts.services import (
    AnswerOutcome,
    Door,
    PasswordCheck,
    card_answer,
    card_challenge,
    current_card,
    login_audit,
    password_check,
)
from accounts.sessions import authentication_time_store, session_idle_expires_at
from permissions.audit import AuditAction, audit_record
from permissions.policy import (
    can_use_etjanster,
    can_use_portal,
    is_etjanster_half_logged_in,
    is_etjanster_verified,
)
from permissions.refusals import RefusalCode, Refused

ETJANSTER_HOME = "/e-tjanster/"
PORTAL_HOME = "/bedomningsportalen/"
# Fields of the matrix form that are not answers.
NOT_ANSWERS = frozenset({"csrfmiddlewaretoken", REDIRECT_FIELD_NAME})


def _safe_next(request: HttpRequest, default: str) -> str:
    """`next` if it stays on this site, else `default` (no open redirect)."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    # A path on this site only: `redirect()` would take any other word for a
    # view name and fail on it.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _with_next(url: str, next_url: str, default: str) -> str:
    if next_url and next_url != default:
        return f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
    return url


def _card_problem(request: HttpRequest, *, user, problem: RefusalCode) -> HttpResponse:
    """A right password, but the card cannot be used: locked, missing, or used up today."""
    return render(
        request,
        "accounts/card_problem.html",
        {"problem": problem, "contacts": card_contacts(user=user), "holder": user},
    )


def _check_login_form(request: HttpRequest, form: PasswordLoginForm, door: Door) -> PasswordCheck:
    return password_check(
        context=audit_context(request),
        username=form.cleaned_data["username"],
        password=form.cleaned_data["password"],
        door=door,
    )


def _wrong_door(
    request: HttpRequest, *, user, door: Door, refused: RefusalCode, belongs: str
) -> HttpResponse:
    """A right password at the wrong login: say which door the account `belongs` to."""
    login_audit(
        user=user, context=audit_context(request), door=door, factor="password", refused=refused
    )
    return render(request, "accounts/wrong_door.html", {"door": belongs})


# --- E-tjänster -----------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def etjanster_login(request: HttpRequest) -> HttpResponse:
    """Step 1: username and password. Step 2 is the matrix card."""
    next_url = _safe_next(request, ETJANSTER_HOME)
    user = request.user
    if is_etjanster_verified(user=user):
        return redirect(next_url)
    if is_etjanster_half_logged_in(user=user):
        return redirect(_with_next(reverse("accounts:matrix"), next_url, ETJANSTER_HOME))

    form = PasswordLoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        check = _check_login_form(request, form, Door.ETJANSTER)
        person = check.user
        if person is None:
            error = _login_error(check.retry_at)
        elif can_use_portal(user=person):
            return _wrong_door(
                request,
                user=person,
                door=Door.ETJANSTER,
                refused=RefusalCode.TEACHER_ACCOUNT,
                belongs="etjanster",
            )
        elif not can_use_etjanster(user=person):
            return _wrong_door(
                request,
                user=person,
                door=Door.ETJANSTER,
                refused=RefusalCode.WRONG_ROLE,
                belongs="admin",
            )
        else:
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
                return _card_problem(request, user=person, problem=problem)
            login_audit(
                user=person, context=audit_context(request), door=Door.ETJANSTER, factor="password"
            )
            # SECURITY: a new session for the half-logged-in state (Django's
            # login cycles the key); it opens nothing until the card step.
            auth_login(request, person)
            return redirect(_with_next(reverse("accounts:matrix"), next_url, ETJANSTER_HOME))
    return render(
        request,
        "accounts/etjanster_login.html",
        {"form": form, "error": error, "next": next_url if next_url != ETJANSTER_HOME else ""},
    )


def _login_error(retry_at: datetime.datetime | None) -> str:
    # SECURITY: one message for an unknown username and a wrong password.
    return with_retry_time(_("The username or password is wrong."), retry_at)


# SECURITY: every field may be a card cell (their names vary), so all are hidden
# from error reports.
@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def etjanster_matrix(request: HttpRequest) -> HttpResponse:
    """Step 2: the three pinned cells of the user's own card."""
    next_url = _safe_next(request, ETJANSTER_HOME)
    user = request.user
    if not is_etjanster_half_logged_in(user=user):
        if is_etjanster_verified(user=user):
            return redirect(next_url)
        return redirect(_with_next(settings.ETJANSTER_LOGIN_URL, next_url, ETJANSTER_HOME))

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
        if result.outcome == AnswerOutcome.EXPIRED:
            error = _("The time for these cells ran out. Answer the new cells below.")
        elif result.outcome == AnswerOutcome.TOO_SOON:
            error = _("Wait a moment: try again at %(time)s.") % {"time": clock(result.retry_at)}
        else:
            # SECURITY: never which cell was wrong.
            error = _("The answer did not match your card.")
            if result.retry_at is not None:
                error += " " + _("Try again at %(time)s.") % {"time": clock(result.retry_at)}

    try:
        cells = card_challenge(user=user)
    except Refused as refused:
        # CARD_NOT_ACTIVE: the card was locked (by answers from elsewhere) meanwhile.
        problem = refused.code
        if problem == RefusalCode.CARD_NOT_ACTIVE:
            problem = RefusalCode.CARD_LOCKED
        return _leave_with_card_problem(request, problem)
    grid = [
        [{"name": f"{column}{row}", "asked": f"{column}{row}" in cells} for column in CARD_COLUMNS]
        for row in CARD_ROWS
    ]
    return render(
        request,
        "accounts/etjanster_matrix.html",
        {
            "cells": cells,
            "grid": grid,
            "columns": CARD_COLUMNS,
            "error": error,
            "next": next_url if next_url != ETJANSTER_HOME else "",
        },
    )


def _leave_with_card_problem(request: HttpRequest, problem: RefusalCode) -> HttpResponse:
    """End the half-logged-in session and say why the card cannot be used."""
    user = request.user
    auth_logout(request)
    return _card_problem(request, user=user, problem=problem)


# --- Bedömningsportalen -------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def portal_login(request: HttpRequest) -> HttpResponse:
    """The teacher login: username and password; other roles are told where to go."""
    next_url = _safe_next(request, PORTAL_HOME)
    user = request.user
    if can_use_portal(user=user):
        return redirect(next_url)

    form = PasswordLoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        check = _check_login_form(request, form, Door.PORTAL)
        person = check.user
        if person is None:
            error = _login_error(check.retry_at)
        elif not can_use_portal(user=person):
            return _wrong_door(
                request,
                user=person,
                door=Door.PORTAL,
                refused=RefusalCode.NOT_TEACHER,
                belongs="portal",
            )
        else:
            login_audit(
                user=person, context=audit_context(request), door=Door.PORTAL, factor="password"
            )
            auth_login(request, person)
            return redirect(next_url)
    return render(
        request,
        "accounts/portal_login.html",
        {"form": form, "error": error, "next": next_url if next_url != PORTAL_HOME else ""},
    )


# --- Both ---------------------------------------------------------------------------


@require_POST
@csrf_protect
def logout(request: HttpRequest) -> HttpResponse:
    """Log out of either half, also from the middle of the E-tjänster login."""
    user = request.user
    if user.is_authenticated:
        audit_record(
            action=AuditAction.LOGOUT, context=audit_context(request), target=user.username
        )
    auth_logout(request)
    messages.success(request, _("You are logged out."))
    return redirect("home")


# --- The idle warning's "Fortsätt" ------------------------------------------------------


@require_POST
@csrf_protect
def session_keepalive(request: HttpRequest) -> HttpResponse:
    """Push the idle timeout on (SessionTimeoutMiddleware already did, as for
    any request) and say when the session now ends. Without JavaScript the
    form posts here and comes back to the page it was on."""
    expires_at = session_idle_expires_at(request=request) if request.user.is_authenticated else None
    if "application/json" in request.headers.get("Accept", ""):
        if expires_at is None:
            return JsonResponse({"expired": True}, status=401)
        seconds = max(0, int((expires_at - timezone.now()).total_seconds()))
        return JsonResponse({"expires_in": seconds})
    return redirect(_safe_next(request, "/"))
