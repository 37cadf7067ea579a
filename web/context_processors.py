"""What every page's header needs to know of the login (policy decides)."""

from django.http import HttpRequest
from django.utils import timezone

from accounts.sessions import session_idle_expires_at
from permissions.policy import (
    can_approve_ss12000,
    can_manage_test_admins,
    can_remove_membership,
    can_view_handover,
    is_admin_enrolment_pending,
    is_etjanster_half_logged_in,
)


def login_state(request: HttpRequest) -> dict:
    """Whether the header may name the logged-in user and offer "Log out".

    Not after only the password step of E-tjänster: until the card is
    answered the person is not logged in (the matrix page offers "Cancel");
    nor with only the one-time password of a new admin-site account.
    """
    user = getattr(request, "user", None)
    logged_in = user is not None and user.is_authenticated
    complete = bool(
        logged_in
        and not is_etjanster_half_logged_in(user=user)
        and not is_admin_enrolment_pending(user=user)
    )
    expires_in = None
    if complete:
        # For the idle warning (static/js/session.js): seconds until the idle
        # timeout ends this session if nothing more happens.
        expires_at = session_idle_expires_at(request=request)
        if expires_at is not None:
            expires_in = max(0, int((expires_at - timezone.now()).total_seconds()))
    return {
        "login_complete": complete,
        "session_expires_in": expires_in,
        # E-tjänster's navigation offers the test administrators' page by this
        # policy answer, never by a role test in the template.
        "may_manage_test_admins": bool(
            logged_in and can_manage_test_admins(user=user, school_unit=None)
        ),
        "may_remove_teachers": bool(
            logged_in and can_remove_membership(user=user, school_unit=None)
        ),
        "may_view_handover": bool(logged_in and can_view_handover(user=user, school_unit=None)),
        "may_approve_ss12000": bool(logged_in and can_approve_ss12000(user=user, school_unit=None)),
    }
