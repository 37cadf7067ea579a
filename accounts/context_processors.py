from django.http import HttpRequest
from django.utils import timezone

from accounts.sessions import session_idle_expires_at
from permissions.policy import is_etjanster_half_logged_in


def login_state(request: HttpRequest) -> dict:
    """Whether the header may name the logged-in user and offer "Log out".

    Not after only the password step of E-tjänster: until the card is
    answered the person is not logged in (the matrix page offers "Cancel").
    """
    user = getattr(request, "user", None)
    complete = bool(
        user is not None and user.is_authenticated and not is_etjanster_half_logged_in(user=user)
    )
    expires_in = None
    if complete:
        # For the idle warning (static/js/session.js): seconds until the idle
        # timeout ends this session if nothing more happens.
        expires_at = session_idle_expires_at(request=request)
        if expires_at is not None:
            expires_in = max(0, int((expires_at - timezone.now()).total_seconds()))
    return {"login_complete": complete, "session_expires_in": expires_in}
