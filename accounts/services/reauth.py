"""Re-authentication before grave acts: a fresh card cell in E-tjänster, a
TOTP code on the admin sites.

SECURITY: removing a teacher's last membership (the account is deleted),
regenerating someone else's password or card, and removals in bulk ask the
acting person to prove a factor again when the session's last proof is older
than `policy.REAUTHENTICATION_AFTER` (15 minutes). The card's cell is pinned on
the card (`MatrixCardDevice.generate_reauth_challenge`) and answered under the
card's own throttle, so a session left open on a shared computer gives
neither the act nor a way to shop for cells; five wrong answers lock the card
and end the session.
"""

from django.db import transaction
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import CardState, User
from accounts.services.cards import card_lock_announce, current_card
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.refusals import RefusalCode, Refused

# Form fields of the re-authentication (never kept, never echoed).
CELL_FIELD = "reauth_cell"
TOTP_FIELD = "reauth_code"


@transaction.atomic
def reauth_card_challenge(*, user: User) -> str:
    """The one cell the user must answer now (pinned on the card)."""
    device = current_card(user=user, for_update=True)
    if device is None:
        raise Refused(RefusalCode.NO_CARD)
    return device.generate_reauth_challenge()


@transaction.atomic
def reauth_card_answer(*, user: User, answer: str, context: AuditContext) -> bool:
    """Check the answer to the pinned cell with the card row locked; audited."""
    device = current_card(user=user, for_update=True)
    if device is None:
        return False
    cell = device.pinned_reauth_cell()
    was_locked = device.state == CardState.LOCKED
    verified = device.verify_reauth_token(answer)
    audit_record(
        action=AuditAction.REAUTHENTICATED if verified else AuditAction.REAUTHENTICATION_FAILED,
        context=context,
        target=user.username,
        details={"factor": "matrix_card", "serial": device.serial, "cell": cell or ""},
    )
    if device.state == CardState.LOCKED:
        audit_record(
            action=AuditAction.CARD_LOCKED,
            context=context,
            target=user.username,
            details={"serial": device.serial, "failures": device.throttling_failure_count},
        )
        if not was_locked:
            card_lock_announce(user=user, device=device)
    return verified


@transaction.atomic
def reauth_totp(*, user: User, token: str, context: AuditContext) -> bool:
    """Check a TOTP code from the user's own confirmed device (its own throttle); audited."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    token = "".join((token or "").split())
    verified = bool(device and token and verify_token(user, device.persistent_id, token))
    audit_record(
        action=AuditAction.REAUTHENTICATED if verified else AuditAction.REAUTHENTICATION_FAILED,
        context=context,
        target=user.username,
        details={"factor": "totp"},
        # Huvudman staff: in their huvudman's log too (national admins have none).
        huvudman=user.huvudman,
    )
    return verified
