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

from dataclasses import dataclass

from django.contrib.auth import logout as auth_logout
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import CardState, User
from accounts.network import audit_context
from accounts.services import answers_incomplete, current_card
from accounts.sessions import authentication_time, authentication_time_store
from permissions import policy
from permissions.audit import AuditAction, AuditContext, audit_record
from permissions.refusals import RefusalCode, Refused

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


# --- The web side: what a confirmation page asks and checks --------------------------


@dataclass(frozen=True)
class Reauth:
    """What the confirmation page must ask: nothing, a card cell or a TOTP code."""

    kind: str = ""  # "", "card" or "totp"
    cell: str = ""
    error: str = ""
    # The card locked: the session was ended and the page must say so.
    ended: bool = False


def reauth_needed(request: HttpRequest) -> bool:
    return policy.reauthentication_needed(
        authenticated_at=authentication_time(request=request), now=timezone.now()
    )


def reauth_prompt(request: HttpRequest, *, error: str = "") -> Reauth:
    """What to ask on a confirmation page (nothing while the last proof is fresh)."""
    if not reauth_needed(request):
        return Reauth()
    user = request.user
    if user.uses_etjanster:
        try:
            cell = reauth_card_challenge(user=user)
        except Refused as refusal:
            return Reauth(kind="card", error=str(refusal))
        return Reauth(kind="card", cell=cell, error=error)
    return Reauth(kind="totp", error=error)


def reauth_check(request: HttpRequest, *, school_unit=None) -> Reauth | None:
    """None when the act may go ahead (fresh proof, or a right answer now);
    else what to show again: the prompt with an error, or an ended session."""
    if not reauth_needed(request):
        return None
    user = request.user
    context = audit_context(request, school_unit=school_unit)
    if user.uses_etjanster:
        answer = request.POST.get(CELL_FIELD, "")
        if answers_incomplete(cells=(CELL_FIELD,), answers={CELL_FIELD: answer}):
            # Nothing typed: not a try against the card, and nothing to audit.
            return reauth_prompt(request, error=_("Fill in the cell. Nothing was counted."))
        verified = reauth_card_answer(user=user, answer=answer, context=context)
        card = current_card(user=user)
        if not verified and (card is None or card.state == CardState.LOCKED):
            # SECURITY: five wrong cells in a row from a logged-in session: the
            # card locks (as at login) and this session ends.
            auth_logout(request)
            return Reauth(kind="card", ended=True)
    else:
        verified = reauth_totp(user=user, token=request.POST.get(TOTP_FIELD, ""), context=context)
    if verified:
        authentication_time_store(request=request)
        return None
    message = (
        _("The answer did not match your card.")
        if user.uses_etjanster
        else _("The code is wrong. Codes change every 30 seconds: use the one your app shows now.")
    )
    return reauth_prompt(request, error=message)
