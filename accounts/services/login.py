"""The password step every login shares: throttled, constant-time, audited."""

import datetime
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from accounts.doors import Door
from accounts.models import User
from accounts.scopes import home_scope, login_scopes
from accounts.throttle import (
    normalize_username,
    password_attempt_refusal,
    password_failure_record,
    password_success_record,
    throttle_burst_count,
    throttle_bursts_flush,
    username_lock,
)
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core import metrics
from core.refusals import RefusalCode


class CheckOutcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    # The throttle refused the attempt before the password was looked at.
    THROTTLED = "throttled"
    # The password was right, but the account is deactivated.
    INACTIVE = "inactive"


@dataclass(frozen=True)
class PasswordCheck:
    """How a password check went; `account` is set when the password was right."""

    outcome: CheckOutcome
    account: User | None = None
    retry_at: datetime.datetime | None = None

    @property
    def user(self) -> User | None:
        """The user who may go on: right password, active account."""
        return self.account if self.outcome == CheckOutcome.ACCEPTED else None


def _account_typed(username: str) -> User | None:
    """The account a typed username names, exactly as Django's ModelBackend looks it up.

    A removed teacher account waiting for its deletion ("borttagen") is no
    account here: its login answers exactly as for an unknown username, as
    after the deletion it waits for.
    """
    if not username:
        return None
    return User.objects.filter(**{User.USERNAME_FIELD: username}, removed_at__isnull=True).first()


def login_failure_target(username: str, account: User | None = None) -> str:
    """What the audit log records as the target of a failed login.

    SECURITY: people type their password into the username field, and the
    audit log is append-only. An existing username is recorded as it is; any
    other text only as a marked keyed hash (HMAC under SECRET_KEY), enough to
    see that several attempts typed the same thing, never the text itself.
    """
    account = account or _account_typed(username)
    if account is not None:
        return account.username
    digest = salted_hmac(
        "accounts.audit.unknown_username", normalize_username(username), algorithm="sha256"
    ).hexdigest()[:16]
    return gettext("unknown username (hash %(hash)s)") % {"hash": digest}


def password_matches(*, account: User | None, password: str) -> bool:
    """Whether `password` is the account's, in the same time for every account.

    SECURITY: an unknown username, a CSV-imported account (a fast PBKDF2
    hash, `permissions.passwords`) and an ordinary account must take the same
    time to answer, or the time tells which usernames exist and which were
    imported. Whatever the stored hash, each wrong answer costs one run of
    the default hasher (`get_hasher("default")`, whichever it is configured
    to be), as Django's ModelBackend does for unknown users; a right answer
    for an outdated hash costs the same, for Django rehashes it with the
    default hasher then.
    """
    default = get_hasher("default")
    if account is None or not account.has_usable_password():
        default.encode(password, default.salt())
        return False
    matched = account.check_password(password)
    if not matched and _hash_algorithm(account.password) != default.algorithm:
        default.encode(password, default.salt())
    return matched


def _hash_algorithm(encoded: str) -> str:
    try:
        return identify_hasher(encoded).algorithm
    except ValueError:
        # A hasher no longer configured: Django refuses the password without hashing.
        return ""


def _failed_login_audit(
    *,
    context: AuditContext,
    username: str,
    account: User | None,
    details: dict,
    action: AuditAction = AuditAction.LOGIN_FAILED,
) -> None:
    """A failed password step: the account and its school/huvudman when it exists."""
    for scope in login_scopes(account) if account is not None else [{}]:
        audit_record(
            action=action,
            context=context,
            target=login_failure_target(username, account),
            details=details,
            **scope,
        )


@transaction.atomic
def password_check(
    *,
    context: AuditContext,
    username: str,
    password: str,
    door: Door,
    device: str = "",
    clear_on_success: bool = True,
    failure_action: AuditAction = AuditAction.LOGIN_FAILED,
) -> PasswordCheck:
    """Check a username and password under the shared throttle, and audit a failure.

    SECURITY: an unknown username and a wrong password take the same path
    and the same time (`password_matches`), both are counted under the
    username as typed, and the caller shows one message. A throttled attempt
    is refused before the password is looked at, counted in its burst
    (`accounts.throttle`), and the caller says only when to try again.

    `device` is this browser's trusted-device id for the username
    (`web.request.trusted_device`). `clear_on_success=False` keeps the
    failures when the password is right: a door with a second factor in the
    same form clears them only when the whole login succeeds (`admin_login`).
    """
    throttle_bursts_flush()
    address = context.address
    username_lock(username=username)
    account = _account_typed(username)
    refusal = password_attempt_refusal(username=username, address=address, device=device)
    if refusal is not None:
        throttle_burst_count(
            refusal=refusal,
            username=username,
            target=login_failure_target(username, account),
            door=door,
            address=address,
            scope=home_scope(account) if account is not None else {},
        )
        # Not audited one by one (the burst is), so counted here.
        metrics.login_observed(
            action=AuditAction.LOGIN_FAILED,
            details={"factor": "password", "door": door, "throttled": refusal.params["reason"]},
        )
        return PasswordCheck(CheckOutcome.THROTTLED, retry_at=refusal.params["retry_at"])
    if not password_matches(account=account, password=password):
        password_failure_record(username=username, address=address, device=device)
        _failed_login_audit(
            context=context,
            username=username,
            account=account,
            details={"factor": "password", "door": door},
            action=failure_action,
        )
        refusal = password_attempt_refusal(username=username, address=address, device=device)
        return PasswordCheck(
            CheckOutcome.WRONG, retry_at=refusal.params["retry_at"] if refusal else None
        )
    if not account.is_active:
        # The right password: no guess to count, but nothing opens.
        login_audit(
            user=account,
            context=context,
            door=door,
            factor="password",
            refused=RefusalCode.ACCOUNT_INACTIVE,
        )
        return PasswordCheck(CheckOutcome.INACTIVE, account=account)
    if clear_on_success:
        password_success_record(username=username, address=address, device=device)
    return PasswordCheck(CheckOutcome.ACCEPTED, account=account)


def login_audit(
    *,
    user: User,
    context: AuditContext,
    door: Door,
    factor: str,
    refused: RefusalCode | None = None,
    details: dict | None = None,
    first_step: bool = False,
) -> None:
    """Record the outcome of a right factor: the login succeeded (or, for the
    `first_step` of two, the password was accepted and the second is asked),
    or it was refused at this door and why."""
    details = {"factor": factor, "door": door, **(details or {})}
    if refused:
        details["refused"] = str(refused)
    if refused:
        action = AuditAction.LOGIN_FAILED
    else:
        action = AuditAction.PASSWORD_ACCEPTED if first_step else AuditAction.LOGIN_SUCCEEDED
    for scope in login_scopes(user):
        audit_record(
            action=action,
            context=context.acting(user),
            target=user.username,
            details=details,
            **scope,
        )
