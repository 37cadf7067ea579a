"""Session timeouts (ASVS 7.3.1 and 7.3.2), as middleware.

The idle timeout (SESSION_IDLE_MINUTES) ends a session nobody uses: the
session row expires that long after its last save, and this middleware
changes it (and so saves it) at most once a minute. The absolute timeout
ends one that is used all day long: SESSION_ABSOLUTE_HOURS after the login,
the user logs in again, whatever they were doing."""

from urllib.parse import parse_qs, urlparse

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.sessions import session_activity_touch, session_is_too_old
from web.resume import post_resume_stash
from web.sessions import login_url_for, session_expire


class SessionTimeoutMiddleware:
    """Log out a session whose login is older than SESSION_ABSOLUTE_HOURS, and
    push a live session's idle timeout on (at most once a minute).

    Goes after AuthenticationMiddleware, OTPMiddleware and MessageMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and session_is_too_old(request=request):
            login_url = login_url_for(user=user)
            session_expire(request=request)
            if request.method == "GET":
                messages.info(request, _("Your session has ended. Log in again."))
                return redirect_to_login(request.get_full_path(), login_url)
            # SECURITY: a POST from an ended session is not carried out; what
            # was typed waits (where safe) for the form after the new login.
            return post_resume_stash(request, redirect(login_url))
        if user.is_authenticated:
            session_activity_touch(request=request)
        response = self.get_response(request)
        if (
            request.method == "POST"
            and response.status_code == 302
            and not user.is_authenticated
            and not request.user.is_authenticated
            and asks_to_come_back(response)
        ):
            # The session had ended before this POST (idle timeout) and the view
            # sent it to a login page to come back here. (A view that logs
            # someone out on purpose, as a locked card does, says why itself;
            # one that sends an anonymous person on to log in after a success,
            # as the e-mailed code page does, asks for no way back.)
            response = post_resume_stash(request, response)
        return response


def asks_to_come_back(response: HttpResponse) -> bool:
    """Whether a redirect names a page to return to after the login (`next`),
    as every login-required refusal does (ours and the admin sites')."""
    return REDIRECT_FIELD_NAME in parse_qs(urlparse(response.get("Location", "")).query)
