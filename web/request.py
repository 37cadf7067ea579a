"""What the web layer knows about a request: the audit context services are
given, and the trusted-device cookie of the password throttle."""

import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from accounts.throttle import username_key
from audit.context import AuditContext
from core.network import DEVICE_COOKIE, client_address


def audit_context(request: HttpRequest, *, school_unit=None):
    """The `AuditContext` of this request: who is logged in, from which address,
    and the school unit the page acts at (if any). Built by views, admin sites
    and forms, and handed to services instead of the request."""
    user = getattr(request, "user", None)
    return AuditContext(
        actor=user if user is not None and user.is_authenticated else None,
        address=client_address(request),
        school_unit=school_unit,
    )


# --- The trusted-device cookie of the password throttle (accounts.throttle) ----

DEVICE_COOKIE_AGE = 180 * 24 * 3600
DEVICE_COOKIE_SALT = "accounts.network.trusted_device"
# The newest usernames a browser stays trusted for.
DEVICE_COOKIE_USERNAMES = 10


def _device_cookie(request: HttpRequest) -> dict:
    try:
        value = signing.loads(
            request.COOKIES.get(DEVICE_COOKIE, ""),
            salt=DEVICE_COOKIE_SALT,
            max_age=DEVICE_COOKIE_AGE,
        )
    except signing.BadSignature:
        return {}
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        return {}
    return value


def _username_mark(username: str) -> str:
    return username_key(username)[:16]


def trusted_device(request: HttpRequest, username: str) -> str:
    """This browser's device id if it has logged in to `username` before, else "".

    SECURITY: the cookie is signed (SECRET_KEY), so it cannot be forged to
    name another account, and it holds only keyed hashes of usernames. It
    grants nothing but a throttle budget of its own: failures elsewhere do
    not slow its owner down (NIST SP 800-63B 5.2.2, "a device the subscriber
    has authenticated from before"); its own failures still do.
    """
    cookie = _device_cookie(request)
    marks = cookie.get("u")
    if isinstance(marks, list) and _username_mark(username) in marks:
        return cookie["id"]
    return ""


def device_cookie_remember(response: HttpResponse, request: HttpRequest, username: str) -> None:
    """After a right password: trust this browser for `username` from now on."""
    cookie = _device_cookie(request)
    marks = [mark for mark in cookie.get("u", []) if isinstance(mark, str)]
    mark = _username_mark(username)
    marks = ([m for m in marks if m != mark] + [mark])[-DEVICE_COOKIE_USERNAMES:]
    value = signing.dumps(
        {"id": cookie.get("id") or secrets.token_urlsafe(16), "u": marks}, salt=DEVICE_COOKIE_SALT
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
