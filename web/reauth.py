"""Re-authentication on a confirmation page: what to ask (nothing while the
last proof is fresh, a card cell in E-tjänster, a TOTP code on the admin
sites) and the check of the answer (`accounts.services.reauth` verifies and audits)."""

from dataclasses import dataclass

from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CardState
from accounts.services.cards import answers_incomplete, current_card
from accounts.services.reauth import (
    CELL_FIELD,
    TOTP_FIELD,
    reauth_card_answer,
    reauth_card_challenge,
    reauth_totp,
)
from accounts.sessions import authentication_time, authentication_time_store
from core.refusals import Refused
from permissions import policy
from web.request import audit_context


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
