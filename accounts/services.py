"""Writes about accounts and credentials. Each is atomic and audited."""

import datetime
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import (
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
from accounts.throttle import (
    normalize_username,
    password_attempt_refusal,
    password_failure_record,
    password_success_record,
    username_lock,
)
from accounts.usernames import generate_password
from config import metrics
from permissions import policy
from permissions.audit import AuditAction, AuditContext, audit_record
from permissions.models import Membership, TestAdministrator
from permissions.refusals import RefusalCode, Refused
from schools.models import PrincipalAssignment, SchoolUnit


@transaction.atomic
def totp_enroll(*, user: User, context: AuditContext) -> TOTPDevice:
    """Give an admin-site user a new authenticator key, replacing any old one.

    The key is shown once (as an otpauth:// URI or QR code); the old device
    stops working at once.
    """
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    audit_record(
        action=AuditAction.TOTP_ENROLLED,
        context=context,
        huvudman=user.huvudman,
        target=user.username,
    )
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

    The old password stops working at once, and because Django's session
    auth hash is derived from the password hash, every session of the user
    ends with it. The audit event belongs to `school_unit` when given (a
    teacher's, changed at one of their schools), else to the account's own.
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
    return password


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
    NO_CARD = "no_card"


@dataclass(frozen=True)
class CardAnswer:
    outcome: AnswerOutcome
    device: MatrixCardDevice | None = None
    retry_at: datetime.datetime | None = None


def card_answer_token(*, cells: tuple[str, ...], answers: dict[str, str]) -> str:
    """The token for `verify_token`: the answers in the order of the pinned cells.

    Answers for other cells, a missing cell, an extra field or an answer of
    the wrong length give a token that cannot match, so the attempt counts
    as a wrong answer instead of being skipped.
    """
    normalized = {name: normalize_answer(value) for name, value in answers.items()}
    if set(normalized) != set(cells) or any(
        len(normalized[cell]) != CARD_CELL_LENGTH for cell in cells
    ):
        return ""
    return "".join(normalized[cell] for cell in cells)


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


@dataclass(frozen=True)
class PasswordCheck:
    """The user when the password was right; otherwise None and maybe when to retry."""

    user: User | None
    retry_at: datetime.datetime | None = None


def _account_typed(username: str) -> User | None:
    """The account a typed username names, exactly as `authenticate` looks it up."""
    if not username:
        return None
    return User.objects.filter(**{User.USERNAME_FIELD: username}).first()


def login_failure_target(username: str) -> str:
    """What the audit log records as the target of a failed login.

    SECURITY: people type their password into the username field, and the
    audit log is append-only. An existing username is recorded as it is; any
    other text only as a marked keyed hash (HMAC under SECRET_KEY), enough to
    see that several attempts typed the same thing, never the text itself.
    """
    account = _account_typed(username)
    if account is not None:
        return account.username
    digest = salted_hmac(
        "accounts.audit.unknown_username", normalize_username(username), algorithm="sha256"
    ).hexdigest()[:16]
    return gettext("unknown username (hash %(hash)s)") % {"hash": digest}


def _failed_login_audit(*, context: AuditContext, username: str, details: dict) -> None:
    """A failed password step: the account and its school/huvudman when it exists."""
    account = _account_typed(username)
    for scope in _login_scopes(account) if account is not None else [{}]:
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            context=context,
            target=login_failure_target(username),
            details=details,
            **scope,
        )


def _login_scopes(user: User) -> list[dict]:
    """Where a login is recorded: a teacher's at each school whose live
    membership makes the account exist (so each school, and its huvudman,
    sees its teachers' logins); anyone else's where `_audit_scope` says."""
    if user.role == Role.TEACHER:
        schools = [
            {"school_unit": membership.school_unit}
            for membership in Membership.objects.live()
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
    clear_on_success: bool = True,
) -> PasswordCheck:
    """Check a username and password under the shared throttle, and audit a failure.

    SECURITY: an unknown username and a wrong password take the same path:
    Django's ModelBackend runs the hasher for unknown users too, both are
    counted under the username as typed, and the caller shows one message.
    A throttled attempt is refused before the password is looked at.

    `clear_on_success=False` keeps the username's failures when the password
    is right: a door with a second factor in the same form clears them only
    when the whole login succeeds (see `admin_login`).
    """
    address = context.address
    username_lock(username=username)
    refusal = password_attempt_refusal(username=username, address=address)
    if refusal is not None:
        _failed_login_audit(
            context=context,
            username=username,
            details={"factor": "password", "door": door, "throttled": refusal.reason},
        )
        return PasswordCheck(user=None, retry_at=refusal.retry_at)
    user = authenticate(None, username=username, password=password)
    if user is None:
        password_failure_record(username=username, address=address)
        _failed_login_audit(
            context=context, username=username, details={"factor": "password", "door": door}
        )
        refusal = password_attempt_refusal(username=username, address=address)
        return PasswordCheck(user=None, retry_at=refusal.retry_at if refusal else None)
    if clear_on_success:
        password_success_record(username=username)
    return PasswordCheck(user=user)


def login_audit(
    *,
    user: User,
    context: AuditContext,
    door: Door,
    factor: str,
    refused: RefusalCode | None = None,
) -> None:
    """Record the outcome of a right password: passed on, or refused at this door and why."""
    details = {"factor": factor, "door": door}
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


# --- The admin sites: password and TOTP code in one form ----------------------

ADMIN_DOORS = {
    Door.ADMIN: policy.can_use_national_admin,
    Door.HUVUDMAN: policy.can_use_huvudman_site,
}


@transaction.atomic
def admin_login(
    *, context: AuditContext, username: str, password: str, token: str, door: Door
) -> PasswordCheck:
    """The /admin/ or /huvudman/ login: password, role and TOTP code, throttled and audited.

    SECURITY: every way to fail (unknown user, wrong password, wrong role, no
    authenticator app, wrong or missing code, a throttled device) ends the
    same for the caller: no user, and the retry time of the shared password
    throttle. Each failure is counted there under the username, and the
    count is cleared only by a whole login, so the throttle's answers do not
    tell which factor was wrong either. The code is checked only through
    `django_otp.verify_token` on the user's own confirmed TOTP device (a
    transaction with the device row locked), never a matrix card.
    """
    check = password_check(
        context=context, username=username, password=password, door=door, clear_on_success=False
    )
    user = check.user
    if user is None:
        return check
    address = context.address
    refused = None
    device = None
    if not (user.is_staff and ADMIN_DOORS[door](user=user)):
        refused = RefusalCode.WRONG_ROLE
    else:
        device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
        if device is None:
            refused = RefusalCode.NO_DEVICE
    login_audit(user=user, context=context, door=door, factor="password", refused=refused)
    if refused:
        password_failure_record(username=username, address=address)
        return _admin_refusal(username=username, address=address)
    token = "".join((token or "").split())
    verified = verify_token(user, device.persistent_id, token) if token else None
    if verified is None:
        password_failure_record(username=username, address=address)
        device.refresh_from_db()
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            context=context.acting(user),
            target=user.username,
            details={
                "factor": "totp",
                "door": door,
                "missing": not token,
                "failures": device.throttling_failure_count,
            },
            **_audit_scope(user),
        )
        return _admin_refusal(username=username, address=address)
    password_success_record(username=username)
    login_audit(user=user, context=context, door=door, factor="totp")
    # django_otp's user_logged_in handler stores this device in the session.
    user.otp_device = verified
    return PasswordCheck(user=user)


def _admin_refusal(*, username: str, address: str | None) -> PasswordCheck:
    refusal = password_attempt_refusal(username=username, address=address)
    return PasswordCheck(user=None, retry_at=refusal.retry_at if refusal else None)
