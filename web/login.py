"""What the login doors share: where they lead, the pages a right password
may still end on (a locked card, a closed account, the wrong door), and the
form checks both doors run."""

from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME, update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.doors import Door
from accounts.services.login import CheckOutcome, PasswordCheck, login_audit, password_check
from accounts.services.passwords import own_password_change
from core.refusals import RefusalCode
from permissions.policy import admin_site_of_role, credentials_issuer
from permissions.selectors import account_contacts
from web.forms import OwnPasswordChangeForm, PasswordLoginForm, throttle_message, with_retry_time
from web.request import audit_context, device_cookie_remember, trusted_device

# Where each door leads after its login: the Swedish paths, prefixed with the
# page's language when it is not Swedish (core.i18n.localized_path).
ETJANSTER_HOME = "/e-tjanster/"
PORTAL_HOME = "/bedomningsportalen/"
# Fields of the matrix form that are not answers.
NOT_ANSWERS = frozenset({"csrfmiddlewaretoken", REDIRECT_FIELD_NAME})


def safe_next(request: HttpRequest, default: str) -> str:
    """`next` if it stays on this site, else `default` (no open redirect)."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    # A path on this site only: `redirect()` would take any other word for a
    # view name and fail on it.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def with_next(url: str, next_url: str, default: str) -> str:
    if next_url and next_url != default:
        return f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
    return url


def card_problem_page(request: HttpRequest, *, user, problem: RefusalCode) -> HttpResponse:
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


def account_closed_page(request: HttpRequest, *, user, problem: RefusalCode) -> HttpResponse:
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


def check_login_form(request: HttpRequest, form: PasswordLoginForm, door: Door) -> PasswordCheck:
    username = form.cleaned_data["username"]
    return password_check(
        context=audit_context(request),
        username=username,
        password=form.cleaned_data["password"],
        door=door,
        device=trusted_device(request, username),
    )


def trusting(response: HttpResponse, request: HttpRequest, user) -> HttpResponse:
    """This browser knew the password: from now on it has a throttle of its own."""
    device_cookie_remember(response, request, user.get_username())
    return response


def wrong_door(
    request: HttpRequest, *, user, door: Door, refused: RefusalCode, belongs: str
) -> HttpResponse:
    """A right password at the wrong login: say which door the account `belongs` to.

    Staff of a huvudman and national admins are sent to their own admin site
    (by role, `admin_site_of_role`), never to E-tjänster, which would refuse them too.
    """
    login_audit(
        user=user, context=audit_context(request), door=door, factor="password", refused=refused
    )
    belongs = admin_site_of_role(user=user) or belongs
    return render(request, "accounts/wrong_door.html", {"door": belongs})


def login_error(check: PasswordCheck) -> str:
    if check.outcome == CheckOutcome.THROTTLED:
        # SECURITY (ASVS 6.3.1): the password was not looked at, so this never
        # says it was wrong; the owner learns when to try, nothing more.
        return throttle_message(check.retry_at)
    # SECURITY: one message for an unknown username and a wrong password.
    return with_retry_time(_("The username or password is wrong."), check.retry_at)


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
