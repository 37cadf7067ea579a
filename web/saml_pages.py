"""The pages around the school account's login: choosing the huvudman
("Logga in med skolans konto"), the one-time proof that an existing account
is one's own, and the teacher's own links."""

import time

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.doors import Door, door_of
from accounts.models import User
from accounts.services.login import CheckOutcome
from core.refusals import RefusalCode
from federation import services
from federation.models import FederatedIdentity, IdentityProvider
from permissions.policy import can_use_etjanster
from web.decorators import teacher_required
from web.forms import PasswordLoginForm
from web.login import account_closed_page, check_login_form, login_error
from web.request import audit_context
from web.saml import (
    CHOSEN_COOKIE,
    PENDING_SESSION_KEY,
    _enabled,
    federated_login,
    own_path,
)

# The most identity providers the choice lists at once.
CHOICES_SHOWN = 30


@require_GET
@never_cache
def federation_choose(request: HttpRequest) -> HttpResponse:
    """Pick the huvudman (by its name or a school's), remembered in a cookie."""
    _enabled()
    query = request.GET.get("q", "").strip()[:100]
    providers = IdentityProvider.objects.filter(is_active=True).select_related("huvudman")
    if query:
        providers = providers.filter(
            Q(huvudman__name__icontains=query)
            | Q(name__icontains=query)
            | Q(huvudman__school_units__name__icontains=query)
        ).distinct()
    chosen_pk = request.COOKIES.get(CHOSEN_COOKIE, "")
    chosen = providers.filter(pk=int(chosen_pk)).first() if chosen_pk.isdigit() else None
    return render(
        request,
        "federation/choose.html",
        {
            "providers": list(providers.order_by("huvudman__name", "name")[:CHOICES_SHOWN]),
            "chosen": chosen,
            "query": query,
            "next": own_path(request.GET.get("next", ""), request),
        },
    )


class _Pending:
    """The verified school account in the session, as `federated_login` reads it."""

    def __init__(self, data: dict, idp: IdentityProvider) -> None:
        self.idp = idp
        self.subject = data["subject"]
        self.two_factor = bool(data["two_factor"])
        self.next_path = data["next"]
        self.display_name = data["name"]


def _pending(request: HttpRequest) -> _Pending | None:
    data = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(data, dict) or data.get("until", 0) < time.time():
        return None
    idp = IdentityProvider.objects.filter(pk=data["idp"], is_active=True).first()
    return _Pending(data, idp) if idp is not None else None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def federation_confirm(request: HttpRequest) -> HttpResponse:
    """The first login with a school account: prove once, with the account's
    password, that the account is one's own (never an e-mail match alone)."""
    _enabled()
    pending = _pending(request)
    if pending is None:
        request.session.pop(PENDING_SESSION_KEY, None)
        return redirect("web:federation_choose")
    form = PasswordLoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        typed = User.objects.filter(username=form.cleaned_data["username"]).first()
        door = (door_of(typed) if typed is not None else None) or Door.PORTAL
        check = check_login_form(request, form, door)
        if check.outcome == CheckOutcome.INACTIVE:
            return account_closed_page(
                request, user=check.account, problem=RefusalCode.ACCOUNT_INACTIVE
            )
        if check.user is None:
            error = login_error(check)
        else:
            return _link_and_login(request, pending, check.user)
    return render(
        request, "federation/confirm.html", {"form": form, "error": error, "pending": pending}
    )


def _link_and_login(request: HttpRequest, pending: _Pending, user: User) -> HttpResponse:
    request.session.pop(PENDING_SESSION_KEY, None)
    if can_use_etjanster(user=user) and not pending.two_factor:
        # Refused (and audited) there; nothing is linked by a login that cannot go on.
        return federated_login(request, login=pending, user=user)
    if FederatedIdentity.objects.filter(idp=pending.idp, user=user).exists():
        messages.error(
            request,
            _(
                "This account is already linked to another school account of the same "
                "identity provider. Remove that link on your account page first."
            ),
        )
        return redirect("web:federation_choose")
    services.identity_link(
        context=audit_context(request),
        idp=pending.idp,
        subject=pending.subject,
        user=user,
        proof="password",
    )
    return federated_login(request, login=pending, user=user)


@require_POST
@csrf_protect
@teacher_required
def federation_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    """A teacher removes a link of their own (from the account page)."""
    identity = get_object_or_404(FederatedIdentity, pk=pk, user=request.user)
    services.identity_unlink(context=audit_context(request), identity=identity)
    messages.success(request, _("The school account is no longer linked to your account."))
    return redirect("portal:account")
