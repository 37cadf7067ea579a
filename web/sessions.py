"""What the web layer does with sessions: the login page of a user's door,
and ending a session that reached its absolute timeout."""

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.urls import reverse

from accounts.models import User
from audit.actions import AuditAction
from audit.log import audit_record
from core.i18n import localized_path
from permissions import policy
from web.request import audit_context


def login_url_for(*, user: User) -> str:
    """The login page of the door this user's role uses."""
    if policy.can_use_etjanster(user=user):
        return localized_path(settings.ETJANSTER_LOGIN_URL)
    if policy.can_use_portal(user=user):
        return localized_path(settings.PORTAL_LOGIN_URL)
    if policy.can_use_national_admin(user=user):
        return reverse("admin:login")
    if policy.can_use_huvudman_site(user=user):
        return reverse("huvudman:login")
    return reverse("home")


def session_expire(*, request) -> None:
    """End a session that reached the absolute timeout, and record it."""
    user = request.user
    audit_record(
        action=AuditAction.LOGOUT,
        context=audit_context(request),
        target=user.username,
        details={"reason": "absolute_timeout"},
    )
    auth_logout(request)
