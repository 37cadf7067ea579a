"""The two login doors: E-tjänster (password + matrix card) and
Bedömningsportalen (password), and one logout for both."""

from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, update_session_auth_hash
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

from accounts.decorators import etjanster_required
from accounts.forms import (
    OwnPasswordChangeForm,
    PasswordLoginForm,
    clock,
    throttle_message,
    with_retry_time,
)
from accounts.models import (
    CARD_COLUMNS,
    CARD_ROWS,
    CardState,
)
from accounts.network import audit_context, device_cookie_remember, trusted_device
from accounts.selectors import account_contacts
from accounts.services import (
    AnswerOutcome,
    CheckOutcome,
    Door,
    PasswordCheck,
    card_answer,
    card_challenge,
    current_card,
    login_audit,
    own_password_change,
    password_check,
)
from accounts.sessions import authentication_time_store, session_idle_expires_at
from config.i18n import localized_path
from permissions.audit import AuditAction, audit_record
from permissions.models import Membership
from permissions.policy import (
    can_use_etjanster,
    can_use_portal,
    credentials_issuer,
    etjanster_appointment_ended,
    is_etjanster_half_logged_in,
    is_etjanster_verified,
)
from permissions.refusals import RefusalCode, Refused
from permissions.schoolyear import today

# Where each door leads after its login: the Swedish paths, prefixed with the
# page's language when it is not Swedish (config.i18n.localized_path).
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
        {
            "problem": problem,
            "contacts": account_contacts(user=user),
            "issuer": credentials_issuer(user=user),
        },
    )


def _account_closed(request: HttpRequest, *, user, problem: RefusalCode) -> HttpResponse:
    """A right password for a deactivated account or an ended appointment:
    say so, and whom to ask by name (never just "wrong password")."""
    return render(
        request,
        "accounts/account_closed.html",
        {
            "problem": problem,
            "contacts": account_contacts(user=user),
            "issuer": credentials_issuer(user=user),
        },
    )


def _check_login_form(request: HttpRequest, form: PasswordLoginForm, door: Door) -> PasswordCheck:
    username = form.cleaned_data["username"]
    return password_check(
        context=audit_context(request),
        username=username,
        password=form.cleaned_data["password"],
        door=door,
        device=trusted_device(request, username),
    )


def _trusting(response: HttpResponse, request: HttpRequest, user) -> HttpResponse:
    """This browser knew the password: from now on it has a throttle of its own."""
    device_cookie_remember(response, request, user.get_username())
    return response


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
    home = localized_path(ETJANSTER_HOME)
    next_url = _safe_next(request, home)
    user = request.user
    if is_etjanster_verified(user=user):
        return redirect(next_url)
    if is_etjanster_half_logged_in(user=user):
        return redirect(_with_next(reverse("accounts:matrix"), next_url, home))
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
        check = _check_login_form(request, form, Door.ETJANSTER)
        person = check.user
        if check.outcome == CheckOutcome.INACTIVE:
            return _account_closed(
                request, user=check.account, problem=RefusalCode.ACCOUNT_INACTIVE
            )
        if person is None:
            error = _login_error(check)
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
        elif etjanster_appointment_ended(user=person, today=today()):
            login_audit(
                user=person,
                context=audit_context(request),
                door=Door.ETJANSTER,
                factor="password",
                refused=RefusalCode.APPOINTMENT_ENDED,
            )
            return _account_closed(request, user=person, problem=RefusalCode.APPOINTMENT_ENDED)
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
            return _trusting(
                redirect(_with_next(reverse("accounts:matrix"), next_url, home)),
                request,
                person,
            )
    return render(
        request,
        "accounts/etjanster_login.html",
        {"form": form, "error": error, "next": next_url if next_url != home else ""},
    )


def _login_error(check: PasswordCheck) -> str:
    if check.outcome == CheckOutcome.THROTTLED:
        # SECURITY (ASVS 6.3.1): the password was not looked at, so this never
        # says it was wrong; the owner learns when to try, nothing more.
        return throttle_message(check.retry_at)
    # SECURITY: one message for an unknown username and a wrong password.
    return with_retry_time(_("The username or password is wrong."), check.retry_at)


# SECURITY: every field may be a card cell (their names vary), so all are hidden
# from error reports.
@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def etjanster_matrix(request: HttpRequest) -> HttpResponse:
    """Step 2: the three pinned cells of the user's own card."""
    home = localized_path(ETJANSTER_HOME)
    next_url = _safe_next(request, home)
    user = request.user
    if not is_etjanster_half_logged_in(user=user):
        if is_etjanster_verified(user=user):
            return redirect(next_url)
        return redirect(_with_next(localized_path(settings.ETJANSTER_LOGIN_URL), next_url, home))

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
        elif result.outcome == AnswerOutcome.INCOMPLETE:
            error = _("Fill in all three cells. Nothing was counted.")
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
    card = current_card(user=user)
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
            "next": next_url if next_url != home else "",
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
    home = localized_path(PORTAL_HOME)
    next_url = _safe_next(request, home)
    user = request.user
    if can_use_portal(user=user):
        return redirect(next_url)

    form = PasswordLoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        check = _check_login_form(request, form, Door.PORTAL)
        person = check.user
        if check.outcome == CheckOutcome.INACTIVE:
            return _account_closed(
                request, user=check.account, problem=RefusalCode.ACCOUNT_INACTIVE
            )
        if person is None:
            error = _login_error(check)
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
            if not Membership.objects.filter(user=person).valid_on(today()).exists():
                # SPEC: an expired teacher still logs in (open material, the
                # account page); the account page says why and whom to ask.
                messages.warning(
                    request,
                    _(
                        "None of your memberships is valid this school year, so protected "
                        "material is closed. Your account page says whom to ask."
                    ),
                )
            return _trusting(redirect(next_url), request, person)
    return render(
        request,
        "accounts/portal_login.html",
        {"form": form, "error": error, "next": next_url if next_url != home else ""},
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


# --- Mitt konto (E-tjänster) -------------------------------------------------------


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
            return redirect("accounts:etjanster_account")
        form.add_error("old_password", error)
    return render(
        request,
        "accounts/etjanster_account.html",
        {"form": form, "card": current_card(user=user), "issuer": credentials_issuer(user=user)},
    )


def own_password_change_view(
    request: HttpRequest, form: OwnPasswordChangeForm, *, door: Door
) -> str | None:
    """Run `own_password_change` for the logged-in user; an error to show, or None.

    This session stays logged in (its new hash is stored); every other
    session of the account ends.
    """
    user = request.user
    check = own_password_change(
        user=user,
        old_password=form.cleaned_data["old_password"],
        new_password=form.cleaned_data["new_password1"],
        door=door,
        context=audit_context(request),
        device=trusted_device(request, user.get_username()),
        keep_session_key=request.session.session_key or "",
    )
    if check.outcome == CheckOutcome.ACCEPTED:
        update_session_auth_hash(request, user)
        return None
    if check.outcome == CheckOutcome.THROTTLED:
        return throttle_message(check.retry_at)
    return with_retry_time(_("The current password is wrong."), check.retry_at)


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
