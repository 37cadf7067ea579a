"""Log in with the school's own account (SAML 2.0): the service provider's
endpoints under /saml2/ and the pages around them.

The protocol (`federation.saml`, pysaml2) and the writes
(`federation.services`) live below; this module is the door. SECURITY:
federation authenticates, it never authorises. After the IdP's answer the
person is exactly who they would be after their password: a teacher goes to
Bedömningsportalen, where the gate decides as always; a principal or test
administrator reaches E-tjänster only when the IdP says two factors were
used, else the password and card stay the way in.

The IdP posts its answer cross-site, so the browser's session cookie
(SameSite=Lax) does not come with it: the ACS only checks the answer and
keeps what it said; the browser then finishes its login with a same-site
GET that carries its cookies (`saml_finish`), in the browser that asked.
"""

import secrets

import django_otp
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.doors import Door
from accounts.models import CardState, User
from accounts.services.cards import current_card
from accounts.services.login import login_audit
from accounts.sessions import authentication_time_store
from core.i18n import localized_path
from core.refusals import RefusalCode, Refused
from federation import saml, services
from federation.models import IdentityProvider, VerifiedLogin
from permissions.policy import (
    admin_site_of_role,
    can_use_etjanster,
    can_use_portal,
    etjanster_appointment_ended,
)
from permissions.schoolyear import today
from web.login import ETJANSTER_HOME, PORTAL_HOME, account_closed_page, card_problem_page
from web.request import audit_context

# The browser's half of an outstanding request (SameSite=Lax: it comes with
# the same-site GET that finishes the login, never with the IdP's POST).
BROWSER_COOKIE = "saml_browser"
# The identity provider this browser last chose ("remember the choice").
CHOSEN_COOKIE = "saml_idp"
CHOSEN_AGE = 365 * 24 * 3600
# A verified school account waiting for the proof that an account is theirs.
PENDING_SESSION_KEY = "federation_pending"


def federation_offered() -> bool:
    """Whether the login pages offer "Log in with the school's account"."""
    return saml.federation_enabled() and IdentityProvider.objects.filter(is_active=True).exists()


def _enabled() -> None:
    if not saml.federation_enabled():
        raise Http404


def own_path(value: str, request: HttpRequest) -> str:
    """`value` if it is a path on this site, else "" (SECURITY: no open redirect)."""
    if (
        value.startswith("/")
        and not value.startswith("//")
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
    ):
        return value
    return ""


def refused_page(request: HttpRequest, code: RefusalCode, *, idp=None, status=403, **extra):
    """The page for a federated login that did not go through, by code."""
    context = {
        "code": str(code),
        "idp": idp,
        "required": saml.REQUIRED_ATTRIBUTES,
        "optional": saml.OPTIONAL_ATTRIBUTES,
        "metadata_url": f"{settings.SITE_URL}{reverse('saml2:metadata')}",
        **extra,
    }
    return render(request, "federation/refused.html", context, status=status)


@require_GET
def saml_metadata(request: HttpRequest) -> HttpResponse:
    """The SP's signed metadata: what a huvudman sends its IdP administrator."""
    _enabled()
    return HttpResponse(saml.signed_metadata(), content_type="application/samlmetadata+xml")


@require_GET
@never_cache
def saml_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the chosen IdP with a signed AuthnRequest."""
    _enabled()
    idp = IdentityProvider.objects.filter(
        entity_id=request.GET.get("idp", ""), is_active=True
    ).first()
    if idp is None:
        return redirect(reverse("web:federation_choose"))
    browser_key = secrets.token_urlsafe(32)
    next_path = own_path(request.GET.get("next", ""), request)
    location = services.login_start(idp=idp, browser_key=browser_key, next_path=next_path)
    response = redirect(location)
    secure = settings.SESSION_COOKIE_SECURE
    response.set_cookie(
        BROWSER_COOKIE, browser_key, max_age=15 * 60, secure=secure, httponly=True, samesite="Lax"
    )
    response.set_cookie(
        CHOSEN_COOKIE, str(idp.pk), max_age=CHOSEN_AGE, secure=secure, httponly=True, samesite="Lax"
    )
    return response


# SECURITY: the IdP's POST is cross-site and carries no CSRF token; what
# protects it is the signed answer to our own outstanding request. No
# session is read or written here.
@csrf_exempt
@require_POST
@never_cache
def saml_acs(request: HttpRequest) -> HttpResponse:
    """The Assertion Consumer Service (HTTP-POST): check the answer, keep it for the browser."""
    _enabled()
    answer = request.POST.get("SAMLResponse", "")
    if not answer:
        return refused_page(request, RefusalCode.FEDERATION_INVALID, status=400)
    try:
        token = services.answer_accept(context=audit_context(request), saml_response=answer)
    except Refused as refused:
        return refused_page(request, refused.code, **refused.params)
    # SECURITY: RelayState is never followed; where to go was kept with the request.
    response = HttpResponseRedirect(f"{reverse('saml2:finish')}?t={token}")
    response.status_code = 303
    return response


@require_GET
@never_cache
def saml_finish(request: HttpRequest) -> HttpResponse:
    """The browser that asked finishes its login: a linked account logs in,
    a trusted address links, anyone else proves an account is theirs."""
    _enabled()
    login = services.verified_login_take(
        context=audit_context(request),
        token=request.GET.get("t", ""),
        browser_key=request.COOKIES.get(BROWSER_COOKIE, ""),
    )
    if login is None:
        return refused_page(request, RefusalCode.FEDERATION_INVALID, reason="expired")
    identity = services.identity_of(idp=login.idp, subject=login.subject)
    if identity is not None:
        services.identity_used(context=audit_context(request), identity=identity)
        return federated_login(request, login=login, user=identity.user)
    trusted = services.trusted_email_account(idp=login.idp, email=login.email)
    if trusted is not None:
        services.identity_link(
            context=audit_context(request),
            idp=login.idp,
            subject=login.subject,
            user=trusted,
            proof="trusted_email",
        )
        return federated_login(request, login=login, user=trusted)
    request.session[PENDING_SESSION_KEY] = pending_of(login)
    return redirect("web:federation_confirm")


def pending_of(login: VerifiedLogin) -> dict:
    return {
        "idp": login.idp.pk,
        "subject": login.subject,
        "name": login.display_name,
        "two_factor": login.two_factor,
        "next": login.next_path,
        "until": int(login.expires_at.timestamp()) + 8 * 60,
    }


def federated_login(request: HttpRequest, *, login, user: User) -> HttpResponse:
    """Log `user` in at their own door, as the IdP's answer allows; `login`
    is the verified answer (VerifiedLogin, or the pending one's values)."""
    idp, two_factor = login.idp, login.two_factor
    details = {"idp": idp.entity_id, "two_factor": two_factor}
    context = audit_context(request)
    if not user.is_active:
        door = Door.ETJANSTER if can_use_etjanster(user=user) else Door.PORTAL
        login_audit(
            user=user,
            context=context,
            door=door,
            factor=services.FACTOR,
            details=details,
            refused=RefusalCode.ACCOUNT_INACTIVE,
        )
        return account_closed_page(request, user=user, problem=RefusalCode.ACCOUNT_INACTIVE)
    if can_use_portal(user=user):
        login_audit(
            user=user, context=context, door=Door.PORTAL, factor=services.FACTOR, details=details
        )
        auth_login(request, user)
        return redirect(login.next_path or localized_path(PORTAL_HOME))
    if can_use_etjanster(user=user):
        return _etjanster_login(request, user=user, login=login, details=details)
    login_audit(
        user=user,
        context=context,
        door=Door.PORTAL,
        factor=services.FACTOR,
        details=details,
        refused=RefusalCode.WRONG_ROLE,
    )
    return render(request, "accounts/wrong_door.html", {"door": admin_site_of_role(user=user)})


def _etjanster_login(request: HttpRequest, *, user: User, login, details: dict) -> HttpResponse:
    """A principal or test administrator: only with two factors at the IdP.

    The session is verified with the person's own matrix card device (the
    one second factor E-tjänster's policy knows), so a locked or missing card
    still stops the login and the card stays the fallback; the audit log
    says the factors were the school account's.
    """
    context = audit_context(request)

    def refuse(code: RefusalCode) -> None:
        login_audit(
            user=user,
            context=context,
            door=Door.ETJANSTER,
            factor=services.FACTOR,
            details=details,
            refused=code,
        )

    if not login.two_factor:
        refuse(RefusalCode.FEDERATION_NO_MFA)
        return refused_page(request, RefusalCode.FEDERATION_NO_MFA, idp=login.idp)
    if etjanster_appointment_ended(user=user, today=today()):
        refuse(RefusalCode.APPOINTMENT_ENDED)
        return account_closed_page(request, user=user, problem=RefusalCode.APPOINTMENT_ENDED)
    card = current_card(user=user)
    if card is None or card.state == CardState.LOCKED:
        problem = RefusalCode.NO_CARD if card is None else RefusalCode.CARD_LOCKED
        refuse(problem)
        return card_problem_page(request, user=user, problem=problem)
    login_audit(
        user=user, context=context, door=Door.ETJANSTER, factor=services.FACTOR, details=details
    )
    auth_login(request, user)
    django_otp.login(request, card)
    # SECURITY (ASVS 7.2.4): a new session key once both factors are in.
    request.session.cycle_key()
    authentication_time_store(request=request)
    return redirect(login.next_path or localized_path(ETJANSTER_HOME))
