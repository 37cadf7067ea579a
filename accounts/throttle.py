"""Throttling of every password check (the four logins and the password
changes) and of the codes sent by e-mail, counted in database rows.

SECURITY (ASVS 6.3.1, NIST SP 800-63B 5.2.2): guessing is slowed down, and
nobody can lock an account's owner out on purpose.

- A browser that has logged in to an account before carries a signed
  *trusted-device* cookie naming that account (`web.request`). Its
  failures are counted for that browser alone, so no failure anywhere else,
  not even from the same school network, slows the owner down there.
- Any other browser is counted per username *and* client address: 3 free
  failures in 24 hours, then a delay of 1, 2, 4 … seconds, at most 15
  minutes. Never a lock: a delay only spaces the attempts out.
- Those untrusted attempts at one username are also counted together from
  every address: past 50 in 24 hours they share the same growing delay, so a
  botnet of many addresses gets no more than about a hundred guesses a day
  (NIST: at most 100 consecutive failures). The owner's trusted browser is
  exempt from this count as from the others.
- Per client address, the number of *distinct* usernames that failed in 15
  minutes: 30 stop a password spray across usernames, while a whole school
  behind one NAT address, where people mistype their own passwords, never
  gets near it; a username that already failed from the address is not
  refused by this limit (its own delay still applies).

Unknown usernames are counted exactly like known ones, so the throttle does
not tell which usernames exist. The rows hold keyed hashes of the username
and device, never the text typed: people type their password into the
username field, and the throttle only needs equality.

Refused attempts are not looked at (no password hash is computed) and are
not audited one by one: each burst of them is one `ThrottleBurst` row with a
count, written to the audit log as one event once the burst has been quiet
for `BURST_QUIET`, so a flood cannot fill the append-only log.
"""

import datetime

from django.db.models import Count, F, Max
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import PasswordFailure, ThrottleBurst
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.locks import advisory_lock
from core.refusals import RefusalCode, Refused

# Failures per username (and address, or trusted device) forgiven before the delay starts.
FREE_FAILURES = 3
MAX_DELAY = datetime.timedelta(minutes=15)
# Failures are forgotten after a day.
USERNAME_WINDOW = datetime.timedelta(hours=24)
# Untrusted failures at one username from all addresses together before they share a delay.
SPREAD_FREE_FAILURES = 50
ADDRESS_USERNAME_LIMIT = 30
ADDRESS_WINDOW = datetime.timedelta(minutes=15)
# A burst of refused attempts is written to the audit log after this long without one.
BURST_QUIET = datetime.timedelta(minutes=5)


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


def device_key(device: str) -> str:
    """The stored form of a trusted device's id ("" for an untrusted browser)."""
    if not device:
        return ""
    return salted_hmac("accounts.throttle.device", device, algorithm="sha256").hexdigest()[:32]


def username_delay(failures: int) -> datetime.timedelta:
    """The wait after `failures` failures in a row: none, then 1, 2, 4 … s, at most 15 min."""
    if failures < FREE_FAILURES:
        return datetime.timedelta(0)
    seconds = 2 ** min(failures - FREE_FAILURES, 20)
    return min(datetime.timedelta(seconds=seconds), MAX_DELAY)


def throttled(*, retry_at: datetime.datetime, reason: str) -> Refused:
    """The one refusal of the throttle: when to try again, and (for the log only) why."""
    local = timezone.localtime(retry_at)
    seconds = retry_at - timezone.now() < datetime.timedelta(minutes=1)
    return Refused(
        RefusalCode.THROTTLED,
        time=local.strftime("%H:%M:%S" if seconds else "%H:%M"),
        retry_at=retry_at,
        reason=reason,
    )


def _delay_refusal(failures, now, *, reason: str, free_extra: int = 0) -> Refused | None:
    count, last = failures["count"], failures["last"]
    if not count:
        return None
    retry_at = last + username_delay(count - free_extra)
    return throttled(retry_at=retry_at, reason=reason) if retry_at > now else None


def password_attempt_refusal(
    *,
    username: str,
    address: str | None,
    device: str = "",
    now: datetime.datetime | None = None,
) -> Refused | None:
    """Why an attempt at `username` must wait (a THROTTLED `Refused`), or None.

    `device` is the id of this browser's trusted-device cookie when the
    cookie names this username (else ""): see the module's docstring.
    """
    now = now or timezone.now()
    key = username_key(username)
    recent = PasswordFailure.objects.filter(username=key, created_at__gte=now - USERNAME_WINDOW)
    totals = {"count": Count("id"), "last": Max("created_at")}
    if device:
        return _delay_refusal(
            recent.filter(device=device_key(device)).aggregate(**totals), now, reason="device"
        )
    untrusted = recent.filter(device="")
    refusals = [
        _delay_refusal(
            untrusted.filter(address=address).aggregate(**totals), now, reason="username"
        ),
        _delay_refusal(
            untrusted.aggregate(**totals),
            now,
            reason="spread",
            free_extra=SPREAD_FREE_FAILURES - FREE_FAILURES,
        ),
    ]
    if address:
        refusals.append(_address_refusal(key=key, address=address, now=now))
    refusals = [refusal for refusal in refusals if refusal is not None]
    if not refusals:
        return None
    return max(refusals, key=lambda refusal: refusal.params["retry_at"])


def _address_refusal(*, key: str, address: str, now: datetime.datetime) -> Refused | None:
    """A new username from an address where too many distinct usernames failed lately."""
    lasts = list(
        PasswordFailure.objects.filter(
            address=address, device="", created_at__gte=now - ADDRESS_WINDOW
        )
        .values("username")
        .annotate(last=Max("created_at"))
        .order_by("last")
        .values_list("username", "last")
    )
    if len(lasts) < ADDRESS_USERNAME_LIMIT or key in {username for username, _last in lasts}:
        return None
    # When enough of the oldest usernames have left the window, a new one may try.
    edge = lasts[len(lasts) - ADDRESS_USERNAME_LIMIT][1]
    return throttled(retry_at=edge + ADDRESS_WINDOW, reason="address")


def username_lock(*, username: str) -> None:
    """Serialize checks of one username until the transaction ends.

    SECURITY: without it, a burst of parallel guesses would all read the
    count before any of them wrote a failure, and slip past the delay. On
    PostgreSQL a transaction-scoped advisory lock keyed by the username does
    it across app servers (no row exists for an unknown username to lock).
    SQLite, for development only, serializes writers on its own.
    """
    advisory_lock("password:" + normalize_username(username))


def password_failure_record(*, username: str, address: str | None, device: str = "") -> None:
    now = timezone.now()
    PasswordFailure.objects.create(
        username=username_key(username),
        address=address,
        device=device_key(device),
        created_at=now,
    )
    # Forget what no longer counts, so the table stays small.
    PasswordFailure.objects.filter(created_at__lt=now - USERNAME_WINDOW).delete()


def password_success_record(*, username: str, address: str | None, device: str = "") -> None:
    """A right password clears the failures it was judged by: this trusted
    browser's, or this address's untrusted ones. Failures elsewhere (an
    attacker's) keep counting."""
    failures = PasswordFailure.objects.filter(username=username_key(username))
    if device:
        failures.filter(device=device_key(device)).delete()
    else:
        failures.filter(device="", address=address).delete()


# --- Bursts of refused attempts: one audit event each ---------------------------


def throttle_burst_count(
    *,
    refusal: Refused,
    username: str,
    target: str,
    door: str,
    address: str | None,
    scope: dict,
) -> None:
    """Count one refused attempt in its burst (one row per username or address).

    SECURITY: an address's burst is shared by every username guessed from
    it, while the caller holds only the username's lock, so two refused
    guesses at two usernames could both find no row and both insert it (an
    IntegrityError on the unique key: a 500, and the count lost). The lock
    on the burst's key makes the second find the first's row.
    """
    reason = refusal.params.get("reason", "")
    now = timezone.now()
    key = f"address:{address}" if reason == "address" else f"{reason}:{username_key(username)}"
    advisory_lock("burst:" + key)
    updated = ThrottleBurst.objects.filter(key=key).update(
        count=F("count") + 1, last_at=now, address=address
    )
    if not updated:
        ThrottleBurst.objects.create(
            key=key,
            reason=reason,
            target=(address or "") if reason == "address" else target,
            door=door,
            address=address,
            school_unit=scope.get("school_unit"),
            huvudman=scope.get("huvudman"),
            started_at=now,
            last_at=now,
            count=1,
        )


def throttle_bursts_flush(*, now: datetime.datetime | None = None) -> int:
    """Write every burst that has been quiet for BURST_QUIET as one audit event.

    Called at every password check, so a burst reaches the log within
    minutes of its end while anyone logs in anywhere; nothing is lost, and
    the log gets one row per burst, however many attempts it counted.
    """
    now = now or timezone.now()
    bursts = list(
        ThrottleBurst.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(last_at__lt=now - BURST_QUIET)
        .select_related("school_unit", "huvudman")
    )
    for burst in bursts:
        audit_record(
            action=AuditAction.LOGIN_THROTTLED,
            context=AuditContext(address=burst.address),
            school_unit=burst.school_unit,
            huvudman=burst.huvudman,
            target=burst.target,
            details={
                "count": burst.count,
                "reason": burst.reason,
                "door": burst.door,
                "first": burst.started_at.isoformat(),
                "last": burst.last_at.isoformat(),
            },
        )
    ThrottleBurst.objects.filter(pk__in=[burst.pk for burst in bursts]).delete()
    return len(bursts)
