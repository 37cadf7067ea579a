"""Codes mailed to a teacher account's address: to confirm a school's link,
or to choose a new password (`confirmations` redeems them). Only a keyed
hash is stored, and each account gets a bounded number of mails an hour."""

import datetime
import secrets
from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from accounts.models import CARD_ALPHABET, User
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.outbox import mail_enqueue
from core.ratelimit import rate_limit_full, rate_limit_hit
from core.refusals import RefusalCode, Refused
from permissions import policy
from permissions.models import EmailCode, EmailCodePurpose, Membership

# How long a mailed code works.
EMAIL_CODE_LIFETIME = datetime.timedelta(days=7)
EMAIL_CODE_ALPHABET = CARD_ALPHABET
# 8 characters of 32: 40 bits, under the password throttle's growing delay.
EMAIL_CODE_LENGTH = 8


def normalize_email_code(code: str) -> str:
    """Codes are read off an e-mail: case, spaces and dashes do not matter."""
    return "".join(char for char in str(code).upper() if char.isalnum())[:32]


def email_code_digest(*, user_id: int, code: str) -> str:
    """SECURITY: only this keyed hash (HMAC under SECRET_KEY) is stored."""
    return salted_hmac(
        "permissions.EmailCode", f"{user_id}:{normalize_email_code(code)}", algorithm="sha256"
    ).hexdigest()


# Codes of one kind mailed to one teacher account per hour, by all schools together.
EMAIL_CODE_MAILS_PER_HOUR = 5


def _code_mail_keys(users: Iterable[User], purpose: str) -> dict[str, User]:
    """The rate-limit key of each account for codes of this kind."""
    return {f"{purpose}:user:{user.pk}": user for user in users}


def email_code_mail_limit(
    *, users: list[User], purpose: str, refusal: RefusalCode = RefusalCode.CODE_MAIL_LIMIT
) -> None:
    """Refused `refusal` (param `email`: the first account at its limit)
    past EMAIL_CODE_MAILS_PER_HOUR codes of this kind to any of `users`.

    SECURITY: any principal of any of the teacher's schools may send a code,
    and registering an address, withdrawing and registering again mails one
    each time, so without a limit one of them could flood the teacher's
    mailbox. Counted per account (not per sender), from every school
    together, in `RateLimitHit` rows shared by every app server; a refused
    request mails nothing. One count for a whole file (keys locked in one
    order, so two imports cannot deadlock).
    """
    if not users:
        return
    keys = _code_mail_keys(users, purpose)
    limits = dict.fromkeys(keys, EMAIL_CODE_MAILS_PER_HOUR)
    if rate_limit_hit(scope="email_code", keys=limits):
        return
    full = rate_limit_full(scope="email_code", keys=limits)
    # (A hit may age out between the two counts: then name the first.)
    raise Refused(refusal, email=keys[(full or list(keys))[0]].email)


def confirmation_codes_spent(*, users: Iterable[User]) -> set[int]:
    """The accounts among `users` that may be mailed no confirmation code
    this hour (`email_code_mail_limit`), for the CSV preview. One query."""
    keys = _code_mail_keys(users, EmailCodePurpose.CONFIRM_MEMBERSHIP)
    full = rate_limit_full(scope="email_code", keys=dict.fromkeys(keys, EMAIL_CODE_MAILS_PER_HOUR))
    return {keys[key].pk for key in full}


def email_code_issue(
    *,
    user: User,
    purpose: str,
    context: AuditContext,
    membership: Membership | None = None,
) -> None:
    """Mail a new one-time code to the account's own address; any earlier
    code for the same thing stops working."""
    mail_enqueue(
        **email_code_create(
            user=user, purpose=purpose, context=context, membership=membership, scopes=None
        )
    )


# How long a code of each purpose works, where not EMAIL_CODE_LIFETIME: a
# code a teacher asked for themself is used at once or asked for again.
EMAIL_CODE_LIFETIMES = {
    EmailCodePurpose.RESET_PASSWORD: datetime.timedelta(minutes=30),
    EmailCodePurpose.LINK_SCHOOL_ACCOUNT: datetime.timedelta(minutes=30),
}
EMAIL_CODE_TEMPLATES = {
    EmailCodePurpose.CONFIRM_MEMBERSHIP: ("emails/membership_confirm", "portal:email_code"),
    EmailCodePurpose.NEW_PASSWORD: ("emails/password_code", "portal:email_code"),
    EmailCodePurpose.RESET_PASSWORD: ("emails/password_reset", "portal:forgot_password_code"),
    EmailCodePurpose.LINK_SCHOOL_ACCOUNT: ("emails/school_account_code", "web:federation_code"),
}


def email_code_create(
    *,
    user: User,
    purpose: str,
    context: AuditContext,
    membership: Membership | None = None,
    scopes: list[dict] | None = None,
    mail_values: dict | None = None,
) -> dict:
    """A new code for the account (earlier ones for the same thing stop
    working), audited (at `scopes`, else the membership's or the context's
    school); returns its mail for the caller to queue or hand to the worker.
    `mail_values` are more values for the mail's template."""
    now = timezone.now()
    earlier = EmailCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True)
    if membership is not None:
        earlier = earlier.filter(membership=membership)
    earlier.filter(expires_at__gt=now).update(expires_at=now)
    raw = "".join(secrets.choice(EMAIL_CODE_ALPHABET) for _ in range(EMAIL_CODE_LENGTH))
    code = f"{raw[:4]}-{raw[4:]}"
    row = EmailCode.objects.create(
        user=user,
        purpose=purpose,
        membership=membership,
        code_hash=email_code_digest(user_id=user.pk, code=code),
        created_at=now,
        expires_at=now + EMAIL_CODE_LIFETIMES.get(purpose, EMAIL_CODE_LIFETIME),
    )
    school_unit = membership.school_unit if membership is not None else context.school_unit
    actor = context.actor
    template, page = EMAIL_CODE_TEMPLATES[EmailCodePurpose(purpose)]
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "user": user,
            "code": code,
            "school_unit": school_unit,
            "actor_name": actor.get_full_name() if actor is not None else "",
            "valid_until": timezone.localtime(row.expires_at),
            "url": f"{settings.SITE_URL}{reverse(page)}?"
            + urlencode({"anvandarnamn": user.username}),
            **(mail_values or {}),
        }
        mail = {
            "subject": render_to_string(f"{template}_subject.txt", values).strip(),
            "body": render_to_string(f"{template}.txt", values),
            "to": [user.email],
        }
    for scope in scopes if scopes is not None else [{"school_unit": school_unit}]:
        audit_record(
            action=AuditAction.EMAIL_CODE_SENT,
            context=context,
            target=user.username,
            details={"purpose": purpose, "valid_until": row.expires_at.isoformat()},
            **scope,
        )
    return mail


@transaction.atomic
def membership_code_resend(*, membership: Membership, context: AuditContext) -> None:
    """A new confirmation code for a membership still waiting for its teacher."""
    if not membership.is_pending:
        raise Refused(RefusalCode.NOT_ALLOWED)
    email_code_mail_limit(users=[membership.user], purpose=EmailCodePurpose.CONFIRM_MEMBERSHIP)
    email_code_issue(
        user=membership.user,
        purpose=EmailCodePurpose.CONFIRM_MEMBERSHIP,
        membership=membership,
        context=context,
    )


@transaction.atomic
def teacher_password_code_send(
    *, membership: Membership, context: AuditContext, today: datetime.date
) -> None:
    """Mail the teacher a code with which they choose a new password themself.

    For a teacher of schools with different principals, where no principal
    may read a new password (`policy.can_regenerate_teacher_password`): any
    of them may send this, and only whoever reads the account's e-mail can
    use it. The current password keeps working until the code is used.
    """
    if not policy.can_send_password_code(user=context.actor, membership=membership, today=today):
        raise Refused(RefusalCode.NOT_ALLOWED)
    email_code_mail_limit(users=[membership.user], purpose=EmailCodePurpose.NEW_PASSWORD)
    email_code_issue(user=membership.user, purpose=EmailCodePurpose.NEW_PASSWORD, context=context)
