"""Session timeouts (ASVS 7.3.1 and 7.3.2).

The idle timeout (SESSION_IDLE_MINUTES) ends a session nobody uses: the
session row expires that long after its last save, and this middleware
changes it (and so saves it) at most once a minute. The absolute timeout
ends one that is used all day long: SESSION_ABSOLUTE_HOURS after the login,
the user logs in again, whatever they were doing.
"""

from django.apps import apps
from django.contrib import auth
from django.contrib.auth import middleware as auth_middleware
from django.utils.functional import SimpleLazyObject
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.models import Device

from accounts.backends import session_being_read
from accounts.session_store import UNREAD_DEVICE_FIELDS
from core.rows import row_by_pk


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's AuthenticationMiddleware; its `get_user` sees the request's session.

    PERFORMANCE: `accounts.backends.AccountBackend.get_user` takes the user
    row the session store read with the session (one statement for both).
    The user is still found by Django's own `auth.get_user`, with all its
    checks: the backend named in the session, the session hash (fallback
    secret keys and the session epoch included), a flush on a mismatch.
    """

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: request_user(request))


def request_user(request):
    # As django.contrib.auth.middleware.get_user, with the session made
    # known to the backend for the length of the call.
    if not hasattr(request, "_cached_user"):
        token = session_being_read.set(request.session)
        try:
            request._cached_user = auth.get_user(request)
        finally:
            session_being_read.reset(token)
    return request._cached_user


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's middleware with a cheaper read of the session's device.

    PERFORMANCE: it runs on every request of a logged-in principal, test
    administrator or admin. A matrix card was read with the session, in the
    same statement (accounts/session_store.py), and is taken from there when
    it is the very device the session's data names; any other device (an
    admin's TOTP, a session saved before the card column existed) is read
    with one plain statement (core/rows.py says why). The card's 80 cell
    MACs stay unread either way. django-otp's own checks still decide: the
    device must belong to the user and be confirmed.
    """

    def _verify_user_sync(self, request, user):
        token = session_being_read.set(request.session)
        try:
            return super()._verify_user_sync(request, user)
        finally:
            session_being_read.reset(token)

    def _device_from_persistent_id(self, persistent_id: str):
        persistent_id = self._normalize_persistent_id(persistent_id)
        try:
            model_label, device_id = persistent_id.rsplit("/", 1)
            device_class = apps.get_model(model_label)
        except (ValueError, LookupError):
            return None
        if not issubclass(device_class, Device):
            return None
        card = getattr(session_being_read.get(None), "loaded_card", None)
        # SECURITY: only the very device (model and id) the session's data names.
        if card is not None and card.persistent_id == persistent_id:
            return card
        deferred = UNREAD_DEVICE_FIELDS & {f.attname for f in device_class._meta.concrete_fields}
        return row_by_pk(device_class, device_id, deferred=frozenset(deferred))
