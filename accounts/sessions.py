"""Ending sessions: the rows of an account that lost access
(`accounts.services.access.access_end` decides), and a session that idles out or
reaches its absolute timeout."""

import datetime

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from accounts.models import Session, User


def sessions_end_many(*, user_ids, keep_session_key: str = "") -> dict[int, int]:
    """Delete every live session of these users (but `keep_session_key`);
    returns how many ended per user id.

    Only `accounts.services.access.access_end` calls this: the session epoch it
    raises is what makes the end final (also for a session row this misses,
    say one being saved at this very moment); deleting the rows frees them
    at once. Each session row carries its user's id (`accounts.Session`,
    written from the session's data at every save), so this is one indexed
    look-up and one delete, whatever the number of live sessions.
    """
    ids = list(user_ids)
    live = Session.objects.filter(user_id__in=ids, expire_date__gt=timezone.now()).exclude(
        pk=keep_session_key
    )
    ended = dict(live.values("user_id").annotate(n=Count("pk")).values_list("user_id", "n"))
    if ended:
        live.delete()
    return ended


def sessions_end(*, user: User) -> int:
    """Delete every live session of `user`; returns how many ended."""
    return sum(sessions_end_many(user_ids=[user.pk]).values())


# --- Idle timeout (ASVS 7.3.1) without a write per request ---------------------

# Seconds since the epoch when the idle timeout was last pushed on.
SEEN_AT_SESSION_KEY = "accounts_seen_at"
# The idle timeout is pushed on at most this often (seconds).
ACTIVITY_RESOLUTION = 60


def session_activity_touch(*, request) -> None:
    """Push a logged-in session's idle timeout on, at most once a minute.

    Django's database session ends SESSION_COOKIE_AGE (SESSION_IDLE_MINUTES)
    after it was last saved, and saves it only when its data changed. Saving
    on every request (SESSION_SAVE_EVERY_REQUEST) made every page view an
    UPDATE of the session row; changing this stamp once a minute instead
    keeps a busy session alive at the cost of one write a minute. The idle
    timeout therefore strikes between one minute before and exactly
    SESSION_IDLE_MINUTES after the last request.
    """
    now = int(timezone.now().timestamp())
    seen = request.session.get(SEEN_AT_SESSION_KEY)
    if not isinstance(seen, int) or now - seen >= ACTIVITY_RESOLUTION:
        request.session[SEEN_AT_SESSION_KEY] = now


def session_idle_expires_at(*, request) -> datetime.datetime | None:
    """When this session ends if nothing more happens (None without a stamp)."""
    seen = request.session.get(SEEN_AT_SESSION_KEY)
    if not isinstance(seen, int):
        return None
    return datetime.datetime.fromtimestamp(seen, tz=datetime.UTC) + datetime.timedelta(
        seconds=settings.SESSION_COOKIE_AGE
    )


# --- Absolute session timeout (ASVS 7.3.2) ------------------------------------

# Seconds since the epoch of the last login, stored in the session at login.
LOGIN_AT_SESSION_KEY = "accounts_login_at"


def login_time_store(*, request) -> None:
    """Start both timeouts' clocks for a session that just logged in."""
    now = int(timezone.now().timestamp())
    request.session[LOGIN_AT_SESSION_KEY] = now
    request.session[SEEN_AT_SESSION_KEY] = now
    authentication_time_store(request=request)


# Seconds since the epoch when this session last proved a factor (a login
# step or a re-authentication): grave acts ask again 15 minutes later.
AUTH_AT_SESSION_KEY = "accounts_auth_at"


def authentication_time_store(*, request) -> None:
    request.session[AUTH_AT_SESSION_KEY] = int(timezone.now().timestamp())


def authentication_time(*, request) -> datetime.datetime | None:
    stamp = request.session.get(AUTH_AT_SESSION_KEY)
    if not isinstance(stamp, int):
        return None
    return datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC)


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    # Connected in AccountsConfig.ready(): Django's `user_logged_in` is the one
    # hook every login passes through, also the admin sites' LoginView, which
    # calls `django.contrib.auth.login` itself.
    if request is not None and hasattr(request, "session"):
        login_time_store(request=request)


def session_is_too_old(*, request) -> bool:
    """True when the session's login is older than SESSION_ABSOLUTE_HOURS.

    A logged-in session without a login time (one from before this check
    existed) gets its clock started now instead.
    """
    started = request.session.get(LOGIN_AT_SESSION_KEY)
    now = timezone.now().timestamp()
    if not isinstance(started, int):
        request.session[LOGIN_AT_SESSION_KEY] = int(now)
        return False
    return now - started >= settings.SESSION_ABSOLUTE_HOURS * 3600
