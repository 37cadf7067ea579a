"""The authentication backend: Django's ModelBackend with a cheaper per-request read."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from accounts.rows import row_by_pk


class AccountBackend(ModelBackend):
    """Logins (`authenticate`) and permissions are ModelBackend's own.

    `get_user` runs on every logged-in request (AuthenticationMiddleware):
    it reads the user with one plain statement instead of an ORM query
    (accounts/rows.py says why), and refuses an inactive user exactly as
    ModelBackend does.
    """

    def get_user(self, user_id):
        user = row_by_pk(get_user_model(), user_id)
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None
