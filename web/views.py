"""Pages every site shares: one logout for every door, and the idle
warning's "Fortsätt"."""

from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from accounts.sessions import session_idle_expires_at
from audit.actions import AuditAction
from audit.log import audit_record
from web.login import safe_next
from web.request import audit_context


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
    return redirect(safe_next(request, "/"))
