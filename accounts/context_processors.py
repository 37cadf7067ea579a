from django.http import HttpRequest

from permissions.policy import is_etjanster_half_logged_in


def login_state(request: HttpRequest) -> dict:
    """Whether the header may name the logged-in user and offer "Log out".

    Not after only the password step of E-tjänster: until the card is
    answered the person is not logged in (the matrix page offers "Cancel").
    """
    user = getattr(request, "user", None)
    return {
        "login_complete": bool(
            user is not None
            and user.is_authenticated
            and not is_etjanster_half_logged_in(user=user)
        )
    }
