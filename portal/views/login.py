"""The Bedömningsportalen door: a teacher's username and password."""

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.doors import Door
from accounts.services.login import CheckOutcome, login_audit
from core.i18n import localized_path
from core.refusals import RefusalCode
from permissions.models import Membership
from permissions.policy import can_use_portal
from permissions.schoolyear import today
from web.forms import PasswordLoginForm
from web.login import (
    PORTAL_HOME,
    account_closed_page,
    check_login_form,
    login_error,
    safe_next,
    trusting,
    wrong_door,
)
from web.request import audit_context
from web.saml import federation_offered


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def portal_login(request: HttpRequest) -> HttpResponse:
    """The teacher login: username and password; other roles are told where to go."""
    home = localized_path(PORTAL_HOME)
    next_url = safe_next(request, home)
    user = request.user
    if can_use_portal(user=user):
        return redirect(next_url)

    form = PasswordLoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        check = check_login_form(request, form, Door.PORTAL)
        person = check.user
        if check.outcome == CheckOutcome.INACTIVE:
            return account_closed_page(
                request, user=check.account, problem=RefusalCode.ACCOUNT_INACTIVE
            )
        if person is None:
            error = login_error(check)
        elif not can_use_portal(user=person):
            return wrong_door(
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
            return trusting(redirect(next_url), request, person)
    return render(
        request,
        "accounts/portal_login.html",
        {
            "form": form,
            "error": error,
            "next": next_url if next_url != home else "",
            "federation": federation_offered(),
        },
    )
