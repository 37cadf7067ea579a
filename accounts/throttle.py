"""Throttling of the password step, shared by the E-tjänster and portal logins.

SECURITY (ASVS 6.3.1): two independent limits, both counted in database rows
so they hold across app servers:

- per username: a growing delay after a few failures (1 s, 2 s, 4 s … up to
  15 minutes). Never a lock: anyone who knows a username could otherwise
  lock its holder out on purpose.
- per client address: a limit high enough for a whole school behind one
  address (NAT) but low enough to stop a password spray across many
  usernames.

Unknown usernames are counted exactly like known ones, so the throttle does
not tell an attacker which usernames exist. The rows hold a keyed hash of the
username, never the text typed: people type their password into the username
field, and the throttle only needs equality.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import PasswordFailure

# Failures per username forgiven before the delay starts.
FREE_FAILURES = 3
MAX_DELAY = datetime.timedelta(minutes=15)
# Failures are forgotten after a day without a success.
USERNAME_WINDOW = datetime.timedelta(hours=24)
ADDRESS_LIMIT = 100
ADDRESS_WINDOW = datetime.timedelta(minutes=15)


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()[:150]


def username_key(username: str) -> str:
    """A keyed hash (HMAC under SECRET_KEY) of the normalized username.

    SECURITY: equal for equal usernames, so the throttle counts the same; a
    password typed into the username field is not kept readable.
    """
    return salted_hmac(
        "accounts.throttle.username", normalize_username(username), algorithm="sha256"
    ).hexdigest()


def username_delay(failures: int) -> datetime.timedelta:
    """The wait after `failures` failures in a row: none, then 1, 2, 4 … s, at most 15 min."""
    if failures < FREE_FAILURES:
        return datetime.timedelta(0)
    seconds = 2 ** min(failures - FREE_FAILURES, 20)
    return min(datetime.timedelta(seconds=seconds), MAX_DELAY)


@dataclass(frozen=True)
class Refusal:
    retry_at: datetime.datetime
    # "username" or "address": for the audit log only, never shown.
    reason: str


def password_attempt_refusal(
    *, username: str, address: str | None, now: datetime.datetime | None = None
) -> Refusal | None:
    """Why a password attempt must wait, or None when it may be tried now."""
    now = now or timezone.now()
    recent = PasswordFailure.objects.filter(
        username=username_key(username), created_at__gte=now - USERNAME_WINDOW
    ).aggregate(count=Count("id"), last=Max("created_at"))
    if recent["count"]:
        retry_at = recent["last"] + username_delay(recent["count"])
        if retry_at > now:
            return Refusal(retry_at=retry_at, reason="username")
    if address:
        window = PasswordFailure.objects.filter(
            address=address, created_at__gte=now - ADDRESS_WINDOW
        ).order_by("-created_at")
        # The (LIMIT)-th newest failure decides when the address may try again.
        edge = window.values_list("created_at", flat=True)[ADDRESS_LIMIT - 1 : ADDRESS_LIMIT]
        if edge:
            return Refusal(retry_at=edge[0] + ADDRESS_WINDOW, reason="address")
    return None


def username_lock(*, username: str) -> None:
    """Serialize password checks of one username until the transaction ends.

    SECURITY: without it, a burst of parallel guesses would all read the
    count before any of them wrote a failure, and slip past the delay. On
    PostgreSQL a transaction-scoped advisory lock keyed by the username does
    it across app servers (no row exists for an unknown username to lock).
    SQLite, for development only, serializes writers on its own.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                ["password:" + normalize_username(username)],
            )


def password_failure_record(*, username: str, address: str | None) -> None:
    now = timezone.now()
    PasswordFailure.objects.create(username=username_key(username), address=address, created_at=now)
    # Forget what no longer counts, so the table stays small.
    PasswordFailure.objects.filter(created_at__lt=now - USERNAME_WINDOW).delete()


def password_success_record(*, username: str) -> None:
    """A right password clears the username's failures (not the address's)."""
    PasswordFailure.objects.filter(username=username_key(username)).delete()
