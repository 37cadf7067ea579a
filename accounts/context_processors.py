from django.http import HttpRequest

from permissions.policy import (
    can_manage_test_admins,
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
    return {
        "login_complete": bool(
            logged_in
            and not is_etjanster_half_logged_in(user=user)
            and not is_admin_enrolment_pending(user=user)
        ),
        # E-tjänster's navigation offers the test administrators' page by this
        # policy answer, never by a role test in the template.
        "may_manage_test_admins": bool(
            logged_in and can_manage_test_admins(user=user, school_unit=None)
        ),
    }
