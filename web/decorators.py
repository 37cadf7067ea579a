"""Who may open a page of each site: the view decorators (policy decides)."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from core.i18n import localized_path
from permissions.policy import can_use_portal, is_etjanster_verified


def etjanster_required(view: Callable) -> Callable:
    """E-tjänster pages: a principal or test administrator past both factors.

    SECURITY: a user who passed only the password step has a session but is
    not verified; every E-tjänster page sends them back to the card step
    (the login view decides which step they are at). Only the matrix card
    counts as the second factor here: a TOTP device is for the admin sites.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_etjanster_verified(user=request.user):
            return redirect_to_login(
                request.get_full_path(),
                localized_path(settings.ETJANSTER_LOGIN_URL),
                REDIRECT_FIELD_NAME,
            )
        return view(request, *args, **kwargs)

    return wrapper


def teacher_required(view: Callable) -> Callable:
    """Bedömningsportalen pages for a logged-in teacher only."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_use_portal(user=request.user):
            return redirect_to_login(
                request.get_full_path(),
                localized_path(settings.PORTAL_LOGIN_URL),
                REDIRECT_FIELD_NAME,
            )
        return view(request, *args, **kwargs)

    return wrapper
