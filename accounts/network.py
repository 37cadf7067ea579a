"""What the web layer knows about a request's client: its address (for
throttling and the audit log) and the audit context services are given."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies are configured.

    SECURITY: X-Forwarded-For is written by whoever sends the request; only
    the entries appended by our own proxies can be trusted. With N trusted
    proxies the client is the N-th address from the right. A wrong client
    address is the most common failure of login throttling behind a proxy.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def audit_context(request: HttpRequest, *, school_unit=None):
    """The `AuditContext` of this request: who is logged in, from which address,
    and the school unit the page acts at (if any). Built by views, admin sites
    and forms, and handed to services instead of the request."""
    from permissions.audit import AuditContext

    user = getattr(request, "user", None)
    return AuditContext(
        actor=user if user is not None and user.is_authenticated else None,
        address=client_address(request),
        school_unit=school_unit,
    )
