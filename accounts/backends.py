"""The authentication backend: Django's ModelBackend with a cheaper per-request read."""

import contextvars

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from core.rows import row_by_pk

# The session whose user Django's `get_user` (or whose device django-otp) is
# looking up right now (set by accounts.middleware.AuthenticationMiddleware
# and OTPMiddleware around those calls only).
session_being_read: contextvars.ContextVar = contextvars.ContextVar("session_being_read")


class AccountBackend(ModelBackend):
    """Logins (`authenticate`) and permissions are ModelBackend's own.

    `get_user` runs on every logged-in request (AuthenticationMiddleware).
    PERFORMANCE: the session store has usually read the user row already, in
    the statement that read the session (accounts/session_store.py); it is
    taken from there when its id is the one Django asks for. Otherwise the
    user is read with one plain statement (core/rows.py). Either way an
    inactive user is refused exactly as ModelBackend does, and Django's
    `get_user` checks the session hash (and so the session epoch) after.
    """

    def get_user(self, user_id):
        user = self._user_read_with_session(user_id)
        if user is None:
            user = row_by_pk(get_user_model(), user_id)
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _user_read_with_session(user_id):
        session = session_being_read.get(None)
        user = getattr(session, "loaded_user", None)
        if user is None:
            return None
        # SECURITY: only the very user the session's signed data names.
        try:
            wanted = user._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        return user if user.pk == wanted else None
