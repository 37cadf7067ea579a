"""Writes about accounts and credentials. Each is atomic and audited."""

import datetime
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django_otp import verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.models import (
    ADMIN_ROLES,
    CARD_ALPHABET,
    CARD_CELL_LENGTH,
    CARD_CELLS,
    CURRENT_CARD_STATES,
    CardState,
    MatrixCardDevice,
    Role,
    User,
    normalize_answer,
)
from accounts.sessions import sessions_end_many
from accounts.throttle import (
    normalize_username,
    password_attempt_refusal,
    password_failure_record,
    password_success_record,
    throttle_burst_count,
    throttle_bursts_flush,
    username_lock,
)
from accounts.usernames import generate_password, generate_username
from accounts.validators import validate_chosen_username_field, validate_person_name_field
from config import metrics
from permissions import policy
from permissions.audit import AuditAction, AuditContext, audit_build, audit_record
from permissions.models import AuditEvent, Membership, TestAdministrator
from permissions.refusals import RefusalCode, Refused
from schools.models import PrincipalAssignment, SchoolUnit


@transaction.atomic
def totp_enroll(*, user: User, context: AuditContext) -> TOTPDevice:
    """Give an admin-site user a new authenticator key, replacing any old one.

    The key is shown once (as an otpauth:// URI or QR code); the old device
    stops working at once.
    """
    replaced = TOTPDevice.objects.filter(user=user).delete()[0]
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    audit_record(
        action=AuditAction.TOTP_ENROLLED,
        context=context,
        huvudman=user.huvudman,
        target=user.username,
        details={"replaced": replaced},
    )
    if replaced:
        access_end(users=[user], context=context, reason="totp_replaced")
    return device


@dataclass(frozen=True)
class IssuedCard:
    """A card just issued. The clear cells exist only in this object: print them now."""

    device: MatrixCardDevice
    serial: str
    issued_on: datetime.date
    cells: dict[str, str] = field(repr=False)


def current_card(*, user: User, for_update: bool = False) -> MatrixCardDevice | None:
    """The user's active or locked card, if any."""
    cards = MatrixCardDevice.objects.filter(user=user, state__in=CURRENT_CARD_STATES)
    if for_update:
        cards = cards.select_for_update()
    return cards.first()


@transaction.atomic
def card_issue(*, user: User, context: AuditContext) -> IssuedCard:
    """Issue a new matrix card, replacing the current one at once.

    SECURITY: the replaced card is unconfirmed as well as marked replaced, so
    django-otp's middleware stops accepting sessions verified with it: the
    holder's E-tjänster sessions end with the old card.
    """
    now = timezone.now()
    replaced = list(
        MatrixCardDevice.objects.select_for_update().filter(
            user=user, state__in=CURRENT_CARD_STATES
        )
    )
    for old in replaced:
        old.state = CardState.REPLACED
        old.replaced_at = now
        old.confirmed = False
        old.challenge = ""
        old.challenge_issued_at = None
        old.save()
    cells = {cell: _random_cell() for cell in CARD_CELLS}
    device = MatrixCardDevice(
        user=user,
        name=gettext("Matrix card"),
        confirmed=True,
        serial=MatrixCardDevice.new_serial(),
        issued_on=timezone.localdate(now),
    )
    device.set_cells(cells)
    device.save()
    audit_record(
        action=AuditAction.CARD_REGENERATED if replaced else AuditAction.CARD_ISSUED,
        context=context,
        target=user.username,
        details={
            "serial": device.serial,
            "replaced": [old.serial for old in replaced],
        },
        **_audit_scope(user),
    )
    if replaced:
        access_end(users=[user], context=context, reason="card_replaced")
    return IssuedCard(device=device, serial=device.serial, issued_on=device.issued_on, cells=cells)


def _random_cell() -> str:
    return "".join(secrets.choice(CARD_ALPHABET) for _ in range(CARD_CELL_LENGTH))


@transaction.atomic
def card_unlock(*, user: User, context: AuditContext) -> MatrixCardDevice:
    """Unlock the user's locked card and clear its throttle; the same card works again."""
    device = current_card(user=user, for_update=True)
    if device is None:
        raise Refused(RefusalCode.NO_CARD)
    device.state = CardState.ACTIVE
    device.locked_at = None
    device.throttle_reset(commit=False)
    device.save()
    audit_record(
        action=AuditAction.CARD_UNLOCKED,
        context=context,
        target=user.username,
        details={"serial": device.serial},
        **_audit_scope(user),
    )
    return device


@transaction.atomic
def password_regenerate(
    *, user: User, context: AuditContext, school_unit: SchoolUnit | None = None
) -> str:
    """Give the user a new generated password, shown once.

    The old password stops working at once, and every session of the user
    ends (`access_end`). The audit event belongs to `school_unit` when given
    (a teacher's, changed at one of their schools), else to the account's own.
    """
    password = generate_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    scope = {"school_unit": school_unit} if school_unit is not None else _audit_scope(user)
    audit_record(
        action=AuditAction.PASSWORD_REGENERATED,
        context=context,
        target=user.username,
        **scope,
    )
    access_end(users=[user], context=context, reason="password_replaced", school_unit=school_unit)
    return password


def _given_or_own_scope(user: User, *, school_unit=None, huvudman=None) -> dict:
    if school_unit is not None:
        return {"school_unit": school_unit}
    if huvudman is not None:
        return {"huvudman": huvudman}
    return _audit_scope(user)


def _audit_scope(user: User) -> dict:
    """The school unit (or huvudman) an account's audit events belong to."""
    if user.role == Role.TEST_ADMIN:
        appointment = TestAdministrator.objects.filter(user=user).first()
        if appointment is not None:
            return {"school_unit": appointment.school_unit}
    if user.role == Role.PRINCIPAL:
        assignment = (
            PrincipalAssignment.objects.filter(user=user).select_related("school_unit").first()
        )
        if assignment is not None:
            return {"huvudman": assignment.school_unit.huvudman}
    if user.huvudman_id is not None:
        return {"huvudman": user.huvudman}
    return {}


# --- The matrix step of the E-tjänster login ---------------------------------


@transaction.atomic
def card_challenge(*, user: User) -> tuple[str, ...]:
    """The three cells the user must answer now: the pinned ones, or new ones.

    Refused: NO_CARD without a card, CARD_NOT_ACTIVE when it is locked,
    DAILY_CAP when the day's new challenges are used up.
    """
    device = current_card(user=user, for_update=True)
    if device is None:
        raise Refused(RefusalCode.NO_CARD)
    return tuple(device.generate_challenge().split(","))


class AnswerOutcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    # Throttled: the answer was not even looked at.
    TOO_SOON = "too_soon"
    LOCKED = "locked"
    # The pinned challenge expired (or none was pinned): nothing was counted.
    EXPIRED = "expired"
    # An asked cell left empty (an Enter pressed too soon): nothing was
    # checked, so nothing was counted.
    INCOMPLETE = "incomplete"
    NO_CARD = "no_card"


@dataclass(frozen=True)
class CardAnswer:
    outcome: AnswerOutcome
    device: MatrixCardDevice | None = None
    retry_at: datetime.datetime | None = None


def card_answer_token(*, cells: tuple[str, ...], answers: dict[str, str]) -> str:
    """The token for `verify_token`: the answers in the order of the pinned cells.

    Answers for other cells, an extra field or an answer of the wrong length
    give a token that cannot match, so the attempt counts as a wrong answer
    instead of being skipped. (An asked cell left empty never gets here:
    `card_answer` sends the form back uncounted, see `answers_incomplete`.)
    """
    normalized = {name: normalize_answer(value) for name, value in answers.items()}
    if set(normalized) != set(cells) or any(
        len(normalized[cell]) != CARD_CELL_LENGTH for cell in cells
    ):
        return ""
    return "".join(normalized[cell] for cell in cells)


def answers_incomplete(*, cells: tuple[str, ...], answers: dict[str, str]) -> bool:
    """Whether an asked cell was left empty or not sent at all.

    Such a form tests nothing (no token can match without every cell), so it
    is not counted against the card's five tries: an Enter pressed too soon
    must not bring the owner closer to a locked card. A guess is only a
    form with every asked cell filled in. The one rule for both card steps:
    the login's three cells (`card_answer`) and a grave act's one cell
    (`accounts.reauth.reauth_check`).
    """
    return any(not normalize_answer(answers.get(cell, "")) for cell in cells)


@transaction.atomic
def card_answer(*, user: User, answers: dict[str, str], context: AuditContext) -> CardAnswer:
    """Check the answers to the pinned challenge on the user's own card.

    SECURITY: the card row stays locked (`select_for_update`) for the whole
    check, and verification goes through `django_otp.verify_token`, so
    concurrent answers are serialized and each sees the throttle left by the
    one before it. The outcome never says which cell was wrong.
    """
    device = current_card(user=user, for_update=True)
    if device is None:
        return CardAnswer(AnswerOutcome.NO_CARD)
    if device.state == CardState.LOCKED:
        return CardAnswer(AnswerOutcome.LOCKED, device)
    allowed, data = device.verify_is_allowed()
    if not allowed:
        # Not audited (no answer was looked at), so counted here.
        metrics.throttle_hit(throttle="matrix_card")
        return CardAnswer(AnswerOutcome.TOO_SOON, device, retry_at=(data or {}).get("locked_until"))
    cells = device.pinned_cells()
    if cells is None:
        return CardAnswer(AnswerOutcome.EXPIRED, device)
    if answers_incomplete(cells=cells, answers=answers):
        return CardAnswer(AnswerOutcome.INCOMPLETE, device)
    context = context.acting(user)
    token = card_answer_token(cells=cells, answers=answers)
    verified = verify_token(user, device.persistent_id, token)
    device.refresh_from_db()
    scope = _audit_scope(user)
    if verified is not None:
        audit_record(
            action=AuditAction.LOGIN_SUCCEEDED,
            context=context,
            target=user.username,
            details={"factor": "matrix_card", "serial": device.serial},
            **scope,
        )
        return CardAnswer(AnswerOutcome.ACCEPTED, device)
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        context=context,
        target=user.username,
        details={
            "factor": "matrix_card",
            "serial": device.serial,
            "failures": device.throttling_failure_count,
        },
        **scope,
    )
    if device.state == CardState.LOCKED:
        audit_record(
            action=AuditAction.CARD_LOCKED,
            context=context,
            target=user.username,
            details={"serial": device.serial, "failures": device.throttling_failure_count},
            **scope,
        )
        return CardAnswer(AnswerOutcome.LOCKED, device)
    _allowed, data = device.verify_is_allowed()
    return CardAnswer(AnswerOutcome.WRONG, device, retry_at=(data or {}).get("locked_until"))


# --- The password step, shared by both logins ---------------------------------


class Door(StrEnum):
    ETJANSTER = "etjanster"
    PORTAL = "bedomningsportalen"
    # The two admin sites: password and TOTP code in one form.
    ADMIN = "admin"
    HUVUDMAN = "huvudman"


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
    """The account a typed username names, exactly as Django's ModelBackend looks it up."""
    if not username:
        return None
    return User.objects.filter(**{User.USERNAME_FIELD: username}).first()


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
    for scope in _login_scopes(account) if account is not None else [{}]:
        audit_record(
            action=action,
            context=context,
            target=login_failure_target(username, account),
            details=details,
            **scope,
        )


def _login_scopes(user: User) -> list[dict]:
    """Where a login is recorded: a teacher's at each school whose live,
    confirmed membership makes the account exist (so each school, and its
    huvudman, sees its teachers' logins, and a school still waiting for the
    teacher's confirmation sees none); anyone else's where `_audit_scope` says."""
    if user.role == Role.TEACHER:
        schools = [
            {"school_unit": membership.school_unit}
            for membership in Membership.objects.confirmed()
            .filter(user=user)
            .select_related("school_unit")
            .order_by("school_unit_id")
        ]
        return schools or [{}]
    return [_audit_scope(user)]


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
    (`accounts.network.trusted_device`). `clear_on_success=False` keeps the
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
            scope=_audit_scope(account) if account is not None else {},
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
) -> None:
    """Record the outcome of a right password: passed on, or refused at this door and why."""
    details = {"factor": factor, "door": door, **(details or {})}
    if refused:
        details["refused"] = str(refused)
    for scope in _login_scopes(user):
        audit_record(
            action=AuditAction.LOGIN_FAILED if refused else AuditAction.LOGIN_SUCCEEDED,
            context=context.acting(user),
            target=user.username,
            details=details,
            **scope,
        )


# --- One's own password ----------------------------------------------------------


@transaction.atomic
def own_password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    door: Door,
    context: AuditContext,
    device: str = "",
    keep_session_key: str = "",
) -> PasswordCheck:
    """A logged-in person changes their own password (the teacher's account
    page, "Mitt konto" in E-tjänster).

    SECURITY: the current password is checked like a login: throttled (so a
    stolen session cannot guess it), each wrong one audited. The caller has
    validated the new password. Every other session of the account ends;
    the one in `keep_session_key` stays (the caller stores its new hash).
    """
    check = password_check(
        context=context.acting(user),
        username=user.username,
        password=old_password,
        door=door,
        device=device,
        failure_action=AuditAction.PASSWORD_CHANGE_FAILED,
    )
    if check.outcome != CheckOutcome.ACCEPTED:
        return check
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(
        action=AuditAction.PASSWORD_CHANGED,
        context=context.acting(user),
        target=user.username,
        details={"by": "self"},
        **_audit_scope(user),
    )
    access_end(
        users=[user],
        context=context.acting(user),
        reason="password_changed",
        keep_session_key=keep_session_key,
    )
    return check


# --- Ending access: the one way --------------------------------------------------


@transaction.atomic
def access_end(
    *,
    users: Iterable[User],
    context: AuditContext,
    reason: str,
    keep_session_key: str = "",
    school_unit: SchoolUnit | None = None,
    huvudman=None,
) -> int:
    """End every session of these accounts, for good. Returns how many ended.

    Called by every service through which an account loses access:
    deactivation, removal, unlinking, a replaced password, card or
    authenticator app, a changed role (the list is in the README).

    SECURITY (ASVS 7.4.2): the account's session epoch is raised, which
    changes its session auth hash (`User._get_session_auth_hash`), so every
    session started before is refused from its next request on, on every
    app server, and stays refused after a reactivation or with the same
    password again. The session rows are deleted too. `keep_session_key`
    spares the session of a person who changed their own password (the
    caller stores its new hash with `update_session_auth_hash`).
    """
    users = [user for user in users if user is not None]
    if not users:
        return 0
    ids = [user.pk for user in users]
    User.objects.filter(pk__in=ids).update(session_epoch=F("session_epoch") + 1)
    epochs = dict(User.objects.filter(pk__in=ids).values_list("pk", "session_epoch"))
    for user in users:
        # The caller's objects carry the new hash too (update_session_auth_hash).
        user.session_epoch = epochs.get(user.pk, user.session_epoch)
    ended = sessions_end_many(user_ids=ids, keep_session_key=keep_session_key)
    AuditEvent.objects.bulk_create(
        [
            audit_build(
                action=AuditAction.SESSIONS_ENDED,
                context=context,
                target=user.username,
                details={"reason": reason, "sessions": ended.get(user.pk, 0)},
                **_given_or_own_scope(user, school_unit=school_unit, huvudman=huvudman),
            )
            for user in users
        ]
    )
    return sum(ended.values())


# --- The admin sites: password and TOTP code in one form ----------------------


@dataclass(frozen=True)
class AdminLogin:
    """The outcome of an admin-site login form.

    `user` is set when the person may be logged in: verified with a TOTP
    code, or (`enrol`) with a one-time password, to the enrolment page only.
    `refused` names a refusal the form may tell after the right credentials
    (an expired one-time password, a deactivated account); otherwise every
    failure is the one message, with `retry_at` when the throttle delays.
    """

    user: User | None = None
    enrol: bool = False
    refused: RefusalCode | None = None
    retry_at: datetime.datetime | None = None
    throttled: bool = False


@transaction.atomic
def admin_login(
    *,
    context: AuditContext,
    username: str,
    password: str,
    token: str,
    door: Door,
    device: str = "",
) -> AdminLogin:
    """The /admin/ or /huvudman/ login: password, role and TOTP code, throttled and audited.

    SECURITY: every way to fail (unknown user, wrong password, wrong role, no
    authenticator app, wrong or missing code, a replayed code) ends the same
    for the caller: no user, and the retry time of the shared password
    throttle. Each failure is counted there under the username, and the
    count is cleared only by a whole login, so the throttle's answers do not
    tell which factor was wrong either. The code is checked only through
    `django_otp.verify_token` on the user's own confirmed TOTP device (a
    transaction with the device row locked; django-otp refuses a code of a
    time step already used), never a matrix card.

    A new account (`staff_create`) has no device yet: its one-time password
    alone logs it in to the enrolment page (`enrol=True`), until
    `onboarding_until`. A deactivated account is told so only after both
    factors were right.
    """
    check = password_check(
        context=context,
        username=username,
        password=password,
        door=door,
        device=device,
        clear_on_success=False,
    )
    if check.outcome == CheckOutcome.THROTTLED:
        return AdminLogin(retry_at=check.retry_at, throttled=True)
    if check.account is None:
        return AdminLogin(retry_at=check.retry_at)
    user = check.account
    address = context.address

    def fail(refused: RefusalCode | None) -> AdminLogin:
        password_failure_record(username=username, address=address, device=device)
        if refused is not None:
            login_audit(user=user, context=context, door=door, factor="password", refused=refused)
        refusal = password_attempt_refusal(username=username, address=address, device=device)
        return AdminLogin(retry_at=refusal.params["retry_at"] if refusal else None)

    if not (user.is_staff and policy.admin_site_of_role(user=user) == door):
        return fail(RefusalCode.WRONG_ROLE)
    if user.onboarding_until is not None:
        return _admin_onboarding_login(
            user=user, context=context, door=door, username=username, device=device
        )
    totp = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    if totp is None:
        return fail(RefusalCode.NO_DEVICE)
    login_audit(user=user, context=context, door=door, factor="password")
    token = "".join((token or "").split())
    verified = verify_token(user, totp.persistent_id, token) if token else None
    if verified is None:
        totp.refresh_from_db()
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            context=context.acting(user),
            target=user.username,
            details={
                "factor": "totp",
                "door": door,
                "missing": not token,
                "failures": totp.throttling_failure_count,
            },
            **_audit_scope(user),
        )
        return fail(None)
    if not user.is_active:
        # Both factors were right: the holder may be told, and whom to ask.
        return AdminLogin(refused=RefusalCode.ACCOUNT_INACTIVE)
    password_success_record(username=username, address=address, device=device)
    login_audit(user=user, context=context, door=door, factor="totp")
    # django_otp's user_logged_in handler stores this device in the session.
    user.otp_device = verified
    return AdminLogin(user=user)


def _admin_onboarding_login(
    *, user: User, context: AuditContext, door: Door, username: str, device: str
) -> AdminLogin:
    """The right one-time password of an account that has not enrolled yet."""
    if not user.is_active:
        return AdminLogin(refused=RefusalCode.ACCOUNT_INACTIVE)
    if user.onboarding_until <= timezone.now():
        login_audit(
            user=user,
            context=context,
            door=door,
            factor="password",
            refused=RefusalCode.ONBOARDING_EXPIRED,
        )
        return AdminLogin(refused=RefusalCode.ONBOARDING_EXPIRED)
    password_success_record(username=username, address=context.address, device=device)
    login_audit(
        user=user,
        context=context,
        door=door,
        factor="one_time_password",
        details={"enrolment": True},
    )
    return AdminLogin(user=user, enrol=True)


# --- Admin-site accounts: created from the top, enrolled at first login --------

# How long a one-time password of a new (or reset) admin-site account works.
ONBOARDING_LIFETIME = datetime.timedelta(days=7)


@dataclass(frozen=True)
class IssuedStaff:
    """A new admin-site account's one-time password, in clear only here: shown once."""

    user: User
    password: str = field(repr=False)
    onboarding_until: datetime.datetime


def admin_role_rules(*, role: str, huvudman) -> None:
    """The one rule of admin-site roles: staff belong to a huvudman, a
    national admin to none. A `ValidationError` by field otherwise."""
    if role not in ADMIN_ROLES:
        raise ValidationError(
            {"role": gettext("Only national administrators and huvudman staff are created here.")}
        )
    if role == Role.HUVUDMAN_STAFF and huvudman is None:
        raise ValidationError({"huvudman": gettext("Huvudman staff must belong to a huvudman.")})
    if role == Role.NATIONAL_ADMIN and huvudman is not None:
        raise ValidationError(
            {"huvudman": gettext("A national administrator belongs to no huvudman.")}
        )


@transaction.atomic
def staff_create(
    *,
    context: AuditContext,
    role: str,
    huvudman,
    first_name: str,
    last_name: str,
    email: str,
    username: str = "",
) -> IssuedStaff:
    """A national admin creates a national admin or a huvudman staff member.

    The account gets a generated one-time password, shown once. At its first
    login it must enrol an authenticator app and choose its own password
    (`admin_enrolment_complete`) before anything else opens; the one-time
    password stops working after ONBOARDING_LIFETIME (ASVS 6.4.1: an
    initial secret expires and never becomes the long-term password).
    Invalid input is a `ValidationError` by field; nothing is saved.
    """
    admin_role_rules(role=role, huvudman=huvudman)
    first_name, last_name, email = first_name.strip(), last_name.strip(), email.strip()
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        validate_person_name_field(name, value)
    username = username.strip().lower()
    chosen = bool(username)
    if chosen:
        validate_chosen_username_field(username)
    else:
        username = generate_username()
    password = generate_password()
    user = User(
        username=username,
        role=role,
        huvudman=huvudman if role == Role.HUVUDMAN_STAFF else None,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=True,
        is_superuser=role == Role.NATIONAL_ADMIN,
        onboarding_until=timezone.now() + ONBOARDING_LIFETIME,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        action=AuditAction.ACCOUNT_CREATED,
        context=context,
        target=user.username,
        details={"role": role, "username_chosen": chosen},
        **_audit_scope(user),
    )
    audit_record(
        action=AuditAction.PASSWORD_ISSUED,
        context=context,
        target=user.username,
        details={"one_time": True, "valid_until": user.onboarding_until.isoformat()},
        **_audit_scope(user),
    )
    return IssuedStaff(user=user, password=password, onboarding_until=user.onboarding_until)


@transaction.atomic
def staff_onboarding_reset(*, context: AuditContext, user: User) -> IssuedStaff:
    """A lost password or phone of an admin-site account: a new one-time
    password, and the authenticator app must be enrolled again.

    The old password and every TOTP device stop working at once, and every
    session of the account ends.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role not in ADMIN_ROLES:
        raise Refused(RefusalCode.NOT_ALLOWED)
    if context.actor is not None and context.actor.pk == user.pk:
        raise Refused(RefusalCode.OWN_ACCOUNT)
    password = generate_password()
    user.set_password(password)
    user.onboarding_until = timezone.now() + ONBOARDING_LIFETIME
    user.save(update_fields=["password", "onboarding_until"])
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    audit_record(
        action=AuditAction.PASSWORD_ISSUED,
        context=context,
        target=user.username,
        details={
            "one_time": True,
            "valid_until": user.onboarding_until.isoformat(),
            "totp_devices_removed": removed,
        },
        **_audit_scope(user),
    )
    access_end(users=[user], context=context, reason="credentials_reset")
    return IssuedStaff(user=user, password=password, onboarding_until=user.onboarding_until)


def totp_enrolment_key() -> str:
    """A new authenticator key (hex), kept in the enrolling session until confirmed."""
    return random_hex(20)


def totp_enrolment_uri(*, user: User, key: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, key=key).config_url


@transaction.atomic
def admin_enrolment_complete(
    *,
    user: User,
    key: str,
    token: str,
    new_password: str,
    context: AuditContext,
    keep_session_key: str = "",
) -> TOTPDevice | None:
    """Finish an admin-site account's first login: the authenticator app
    proves it has `key` with a current code, and the person's own password
    replaces the one-time password. None (and nothing saved) for a wrong code.

    SECURITY: the device is created only now, confirmed, with the code's
    time step marked used (django-otp then refuses that code again), so a
    failed enrolment leaves no device behind. The caller has validated the
    new password; the one-time password stops working with it.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.onboarding_until is None or not user.is_active:
        raise Refused(RefusalCode.NOT_ALLOWED)
    if user.onboarding_until <= timezone.now():
        raise Refused(RefusalCode.ONBOARDING_EXPIRED)
    device = TOTPDevice(user=user, key=key, name=gettext("Authenticator app"), confirmed=True)
    code = "".join((token or "").split())
    if not code.isdigit() or len(code) != device.digits:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), device.tolerance):
        return None
    device.last_t = totp.t()
    TOTPDevice.objects.filter(user=user).delete()
    device.save()
    user.set_password(new_password)
    user.onboarding_until = None
    user.save(update_fields=["password", "onboarding_until"])
    scope = _audit_scope(user)
    audit_record(
        action=AuditAction.TOTP_ENROLLED,
        context=context.acting(user),
        target=user.username,
        details={"by": "self"},
        **scope,
    )
    audit_record(
        action=AuditAction.PASSWORD_CHANGED,
        context=context.acting(user),
        target=user.username,
        details={"by": "self", "replaces": "one_time_password"},
        **scope,
    )
    access_end(
        users=[user],
        context=context.acting(user),
        reason="enrolled",
        keep_session_key=keep_session_key,
    )
    return device


# "Leave as it is", where None is a value (no huvudman).
UNCHANGED = object()


@transaction.atomic
def account_admin_update(
    *,
    context: AuditContext,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    is_active: bool,
    role: str | None = None,
    huvudman=UNCHANGED,
) -> list[str]:
    """A national admin changes an account in /admin/. Returns the changed fields.

    Names and e-mail: audited. Deactivation: the account's sessions end for
    good (`access_end`); reactivation revives none. Role and huvudman change
    only between the admin-site roles (a principal's, test administrator's
    or teacher's role is bound to its appointment), with the same rules as
    at creation, and end every session too. Nobody deactivates their own
    account or changes its role, so the last national admin cannot lock
    everyone out by mistake.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    own = context.actor is not None and context.actor.pk == user.pk
    role = user.role if role is None else role
    huvudman = user.huvudman if huvudman is UNCHANGED else huvudman
    huvudman_id = getattr(huvudman, "pk", None)
    changed: list[str] = []
    before = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email}
    after = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "email": email.strip(),
    }
    for name, value in after.items():
        if name != "email":
            validate_person_name_field(name, value)
        if before[name] != value:
            setattr(user, name, value)
            changed.append(name)
    role_changed = role != user.role or (
        role == Role.HUVUDMAN_STAFF and huvudman_id != user.huvudman_id
    )
    if role_changed:
        if user.role not in ADMIN_ROLES:
            raise Refused(RefusalCode.NOT_ALLOWED)
        if own:
            raise Refused(RefusalCode.OWN_ACCOUNT)
        admin_role_rules(role=role, huvudman=huvudman)
        old = {"role": user.role, "huvudman": user.huvudman_id}
        user.role = role
        user.huvudman = huvudman if role == Role.HUVUDMAN_STAFF else None
        user.is_superuser = role == Role.NATIONAL_ADMIN
        changed += ["role", "huvudman"]
    deactivating = user.is_active and not is_active
    reactivating = not user.is_active and is_active
    if deactivating and own:
        raise Refused(RefusalCode.OWN_ACCOUNT)
    if deactivating or reactivating:
        user.is_active = is_active
        changed.append("is_active")
    if not changed:
        return []
    user.full_clean(exclude=["password"])
    user.save()
    scope = _audit_scope(user)
    personal = [name for name in ("first_name", "last_name", "email") if name in changed]
    if personal:
        audit_record(
            action=AuditAction.ACCOUNT_CHANGED,
            context=context,
            target=user.username,
            details={"fields": personal},
            **scope,
        )
    if role_changed:
        audit_record(
            action=AuditAction.ROLE_CHANGED,
            context=context,
            target=user.username,
            details={"before": old, "after": {"role": user.role, "huvudman": user.huvudman_id}},
            **scope,
        )
    if deactivating or reactivating:
        audit_record(
            action=AuditAction.ACCOUNT_DEACTIVATED
            if deactivating
            else AuditAction.ACCOUNT_REACTIVATED,
            context=context,
            target=user.username,
            details={"by": "national_admin"},
            **scope,
        )
    if deactivating or role_changed:
        access_end(
            users=[user],
            context=context,
            reason="deactivated" if deactivating else "role_changed",
        )
    return changed


@transaction.atomic
def admin_password_issue(*, context: AuditContext, user: User) -> IssuedStaff | str:
    """/admin/accounts/user/<id>/password/: a national admin issues a new password.

    An admin-site account gets a one-time password and enrols again
    (`staff_onboarding_reset`); any other account a generated password
    (`password_regenerate`), as the role above it would issue. Either way the
    old password stops working and every session ends. Nobody types a
    password for someone else here.
    """
    if user.role in ADMIN_ROLES:
        return staff_onboarding_reset(context=context, user=user)
    return password_regenerate(user=user, context=context)
