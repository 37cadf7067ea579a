"""The client of a request: its address (for throttling and the audit log)
and the name of the trusted-device cookie (`web.request`)."""

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


DEVICE_COOKIE = "bp_device"
