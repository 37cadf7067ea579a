"""A teacher redeems a mailed code: confirms or declines a school's link, or
chooses a new password (the code a principal had sent)."""

import dataclasses
import datetime
import hmac
from enum import StrEnum

from django.contrib.auth import password_validation
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.scopes import login_scopes
from accounts.services.access import access_end
from accounts.services.login import login_failure_target
from accounts.throttle import (
    password_attempt_refusal,
    password_failure_record,
    password_success_record,
    throttle_burst_count,
    throttle_bursts_flush,
    username_lock,
)
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_build, audit_record
from audit.models import AuditEvent
from core.outbox import mail_enqueue_composed
from core.refusals import RefusalCode, Refused
from permissions.models import EmailCode, EmailCodePurpose, Membership
from permissions.services.codes import email_code_digest
from permissions.services.memberships import membership_remove
from schools.models import SchoolUnit


def _email_code_throttle_name(username: str) -> str:
    # Counted apart from the account's password, so that guessing codes never
    # delays its owner's logins (and the reverse).
    return "email-code:" + (username or "")


class CodeOutcome(StrEnum):
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    PASSWORD_SET = "password_set"  # noqa: S105 (an outcome, not a password)


@dataclasses.dataclass(frozen=True)
class CodeRedemption:
    outcome: CodeOutcome
    user: User | None
    school_unit: SchoolUnit | None = None


def email_code_redeem(
    *,
    username: str,
    code: str,
    new_password: str | None,
    decline: bool,
    context: AuditContext,
    keep_session_key: str = "",
) -> CodeRedemption:
    """Use a mailed code: confirm (or decline) a school's registration, or set
    a new password. With confirmation, `new_password` is required too.

    SECURITY: the code proves the account's e-mail address, the thing the
    linking school relied on. Confirming also replaces the password with one
    the owner chooses now: the first password was seen by whichever school
    created the account, and must not open this school's grants. Every
    session of the account ends (but `keep_session_key`). Wrong codes are
    throttled by username like passwords (a delay, never a lock) and
    audited; an unknown username answers like a wrong code. Raises
    `Refused`: THROTTLED, CODE_WRONG (with `retry_at` when a delay began),
    CODE_USED, CODE_EXPIRED. A failing step changes nothing but the
    throttle's count and the audit log, which are committed before the
    refusal is raised.
    """
    outcome = _email_code_redeem(
        username=username,
        code=code,
        new_password=new_password,
        decline=decline,
        context=context,
        keep_session_key=keep_session_key,
    )
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


@transaction.atomic
def _email_code_redeem(
    *,
    username: str,
    code: str,
    new_password: str | None,
    decline: bool,
    context: AuditContext,
    keep_session_key: str,
) -> CodeRedemption | Refused:
    found = _code_found(username=username, code=code, context=context)
    if isinstance(found, Refused):
        return found
    account, match = found
    membership = match.membership
    if match.used_at is not None:
        return Refused(RefusalCode.CODE_USED)
    if match.expires_at <= timezone.now() or (membership is not None and not membership.is_pending):
        # Expired, replaced by a newer code, or the school withdrew the registration.
        return Refused(RefusalCode.CODE_EXPIRED)
    password_success_record(username=_email_code_throttle_name(username), address=context.address)
    # Before the password and the confirmation change: a new password that
    # another school gives at this moment (`teacher_password_regenerate`)
    # lands wholly before this one, never after it.
    account = User.objects.select_for_update().get(pk=account.pk)
    now = timezone.now()
    match.used_at = now
    match.save(update_fields=["used_at"])
    as_owner = context.acting(account) if context.actor is None else context
    school_unit = membership.school_unit if membership is not None else None
    if membership is not None and decline:
        audit_record(
            action=AuditAction.MEMBERSHIP_DECLINED,
            context=as_owner,
            school_unit=school_unit,
            target=account.username,
        )
        link_answer_announce(membership=membership, declined=True)
        membership_remove(membership=membership, context=as_owner)
        return CodeRedemption(CodeOutcome.DECLINED, account, school_unit)
    if not new_password:
        raise Refused(RefusalCode.NOT_ALLOWED)
    # A ValidationError here rolls everything back: the code stays unused.
    password_validation.validate_password(new_password, account)
    account.set_password(new_password)
    account.save(update_fields=["password"])
    # A code for a school's registration is that school's; a code for a new
    # password is recorded at each of the account's schools, like a login.
    for scope in [{"school_unit": school_unit}] if school_unit else login_scopes(account) or [{}]:
        audit_record(
            action=AuditAction.PASSWORD_CHANGED,
            context=as_owner,
            target=account.username,
            details={"by": "self", "with": "email_code", "purpose": match.purpose},
            **scope,
        )
    outcome = CodeOutcome.PASSWORD_SET
    if membership is not None:
        _membership_confirm(membership=membership, account=account, context=as_owner, now=now)
        outcome = CodeOutcome.CONFIRMED
    access_end(
        users=[account],
        context=as_owner,
        reason="password_changed",
        keep_session_key=keep_session_key,
        school_unit=school_unit,
    )
    return CodeRedemption(outcome, account, school_unit)


# The codes `email_code_redeem` takes: a code for linking a school account
# proves the address for that link only (`email_code_prove`), never sets a
# password (its huvudman may have decided its teachers have none).
REDEEMED_PURPOSES = (
    EmailCodePurpose.CONFIRM_MEMBERSHIP,
    EmailCodePurpose.NEW_PASSWORD,
    EmailCodePurpose.RESET_PASSWORD,
)


def email_code_prove(*, username: str, code: str, purpose: str, context: AuditContext) -> User:
    """Use a mailed code of `purpose` as proof that `username` is the
    caller's account (the code proves its e-mail address): returns the
    account, the code spent. Throttled, audited and refused exactly as
    `email_code_redeem` (THROTTLED, CODE_WRONG, CODE_USED, CODE_EXPIRED);
    the throttle's count and the audit log are committed before a refusal
    is raised. What the proof is for is the caller's, in its own transaction.
    """
    outcome = _email_code_prove(username=username, code=code, purpose=purpose, context=context)
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


@transaction.atomic
def _email_code_prove(
    *, username: str, code: str, purpose: str, context: AuditContext
) -> User | Refused:
    found = _code_found(username=username, code=code, context=context, purposes=(purpose,))
    if isinstance(found, Refused):
        return found
    account, match = found
    if match.used_at is not None:
        return Refused(RefusalCode.CODE_USED)
    if match.expires_at <= timezone.now():
        return Refused(RefusalCode.CODE_EXPIRED)
    password_success_record(username=_email_code_throttle_name(username), address=context.address)
    match.used_at = timezone.now()
    match.save(update_fields=["used_at"])
    return account


def _code_found(
    *, username: str, code: str, context: AuditContext, purposes=REDEEMED_PURPOSES
) -> tuple[User, EmailCode] | Refused:
    """The account's code row of one of `purposes` that matches `code`
    (locked), under the code throttle; a refusal when throttled or when
    nothing matches (audited)."""
    throttle_bursts_flush()
    name = _email_code_throttle_name(username)
    address = context.address
    username_lock(username=name)
    account = User.objects.filter(
        username=username, role=Role.TEACHER, removed_at__isnull=True
    ).first()
    refusal = password_attempt_refusal(username=name, address=address)
    if refusal is not None:
        throttle_burst_count(
            refusal=refusal,
            username=name,
            target=login_failure_target(username, account),
            door="email_code",
            address=address,
            scope={},
        )
        return refusal
    match = None
    if account is not None:
        digest = email_code_digest(user_id=account.pk, code=code)
        for row in (
            EmailCode.objects.select_for_update(of=("self",))
            .filter(user=account, purpose__in=purposes)
            .select_related("membership__school_unit")
        ):
            if hmac.compare_digest(row.code_hash, digest):
                match = row
    if match is None:
        password_failure_record(username=name, address=address)
        audit_record(
            action=AuditAction.EMAIL_CODE_REFUSED,
            context=context,
            target=login_failure_target(username, account),
        )
        refusal = password_attempt_refusal(username=name, address=address)
        return Refused(
            RefusalCode.CODE_WRONG, retry_at=refusal.params["retry_at"] if refusal else None
        )
    return account, match


def _membership_confirm(
    *, membership: Membership, account: User, context: AuditContext, now: datetime.datetime
) -> None:
    """The owner confirmed: the school now knows the account's own name (the
    typed one is no longer needed), and the account's other schools learn
    that it is shared."""
    membership.confirmed_at = now
    membership.typed_first_name = membership.typed_last_name = ""
    membership.save(update_fields=["confirmed_at", "typed_first_name", "typed_last_name"])
    audit_record(
        action=AuditAction.MEMBERSHIP_CONFIRMED,
        context=context,
        school_unit=membership.school_unit,
        target=account.username,
    )
    AuditEvent.objects.bulk_create(
        account_shared_events(user=account, school_unit=membership.school_unit, context=context)
    )
    link_answer_announce(membership=membership, declined=False)


# The outbox kind whose composer (`notifications`, a layer above) tells the
# school: this layer knows nobody it tells.
LINK_ANSWERED_MAIL = "notify_link_answered"


def link_answer_announce(*, membership: Membership, declined: bool) -> None:
    """Tell the school that its teacher answered, in the caller's transaction."""
    mail_enqueue_composed(
        kind=LINK_ANSWERED_MAIL, params={"membership_id": membership.pk, "declined": declined}
    )


def account_shared_events(
    *, user: User, school_unit: SchoolUnit, context: AuditContext
) -> list[AuditEvent]:
    """One event at each other school of the account, when its owner has
    confirmed `school_unit`: their log shows that the account is now shared,
    and where.

    PRIVACY: not when a school merely types the address. Until the teacher
    agrees, that school gets nothing and the teacher's other schools learn
    nothing either (not of another employer, nor that school's principal or
    address): the registration may be a mistake, or declined. The event names
    the teacher as actor, without the address they confirmed from.
    """
    others = (
        Membership.objects.confirmed()
        .filter(user=user)
        .exclude(school_unit=school_unit)
        .select_related("school_unit")
    )
    quiet = dataclasses.replace(context, actor=user, address=None)
    return [
        audit_build(
            action=AuditAction.TEACHER_ACCOUNT_SHARED,
            context=quiet,
            school_unit=other.school_unit,
            target=user.username,
            details={"school_unit": school_unit.code, "school_name": school_unit.name},
        )
        for other in others
    ]
