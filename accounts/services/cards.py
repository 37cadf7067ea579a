"""The matrix card: issue, unlock, and the card step of the E-tjänster login."""

import datetime
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django_otp import verify_token

from accounts.models import (
    CARD_ALPHABET,
    CARD_CELL_LENGTH,
    CARD_CELLS,
    CURRENT_CARD_STATES,
    CardState,
    MatrixCardDevice,
    User,
    normalize_answer,
)
from accounts.scopes import home_scope
from accounts.services.access import access_end
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core import metrics
from core.outbox import mail_enqueue_composed
from core.refusals import RefusalCode, Refused


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
        **home_scope(user),
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
        **home_scope(user),
    )
    return device


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
    (`web.reauth.reauth_check`).
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
    scope = home_scope(user)
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
        card_lock_announce(user=user, device=device)
        return CardAnswer(AnswerOutcome.LOCKED, device)
    _allowed, data = device.verify_is_allowed()
    return CardAnswer(AnswerOutcome.WRONG, device, retry_at=(data or {}).get("locked_until"))


# The outbox kind whose composer (`notifications`, a layer above) decides who
# hears of a locked card: this layer knows nobody it tells.
CARD_LOCKED_MAIL = "notify_card_locked"


def card_lock_announce(*, user: User, device: MatrixCardDevice) -> None:
    """Tell the role above that the card locked, in the caller's transaction.

    The holder's verified sessions stay (the product owner's decision: five
    wrong answers would otherwise be a way to lock a principal out); the
    issuer, told by mail, unlocks the card or issues a new one.
    """
    mail_enqueue_composed(
        kind=CARD_LOCKED_MAIL,
        params={"user_id": user.pk, "device_id": device.pk, "at": timezone.now().isoformat()},
    )
