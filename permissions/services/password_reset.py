"""“Glömt lösenordet?”: a teacher who forgot the password asks for a code at
the portal's login, by username or e-mail address, and chooses a new
password with it (`confirmations.email_code_redeem`, like every mailed code).

SECURITY: the request answers the same, and does the same work, whatever
was typed: it is throttled like a password under the text typed, counted
per client address, and stores one sealed outbox row. Whether any account
matches is decided by the mail worker (`password_reset_compose`), which
mails a code only to the account's own address, within the account's hourly
limit of codes. Principals and test administrators get nothing here: their
card and password are theirs to protect, and the role above issues new ones.
"""

from django.db import transaction
from django.db.models import Q

from accounts.models import Role, User
from accounts.scopes import login_scopes
from accounts.throttle import (
    password_attempt_refusal,
    password_failure_record,
    throttle_bursts_flush,
    username_lock,
)
from audit.context import AuditContext
from core.outbox import mail_enqueue_composed
from core.ratelimit import rate_limit_hit
from core.refusals import RefusalCode, Refused
from permissions.models import EmailCodePurpose
from permissions.services.codes import email_code_create, email_code_mail_limit

# The outbox kind; `PermissionsConfig.ready` registers its composer.
RESET_MAIL = "password_reset"
# Requests from one client address an hour (a school shares one address).
RESETS_PER_ADDRESS = 30
# Accounts one typed e-mail address may reach (one person, one account;
# a principal's own teacher account may share the principal's address).
MAX_ACCOUNTS = 3


def _throttle_name(typed: str) -> str:
    # Counted apart from the account's password and its codes, so that asking
    # for codes never delays its owner's logins (and the reverse).
    return "password-reset:" + typed


def normalize_typed(typed: str) -> str:
    return " ".join(str(typed).split())[:254]


def password_reset_request(*, typed: str, context: AuditContext) -> None:
    """Queue a forgotten-password request for the mail worker.

    Raises `Refused` THROTTLED (with `retry_at`) when this text was asked
    for too often from here, or from too many places; NOT_ALLOWED when the
    address made too many requests this hour. Neither depends on whether
    the text names an account.
    """
    email_code_request(typed=typed, context=context, kind=RESET_MAIL)


@transaction.atomic
def email_code_request(
    *, typed: str, context: AuditContext, kind: str, params: dict | None = None
) -> None:
    """Queue a request for a code to the account(s) `typed` names, for the
    mail worker's composer of `kind` (with `params` besides what was typed),
    throttled and answered as `password_reset_request` is: the same work and
    the same answer whether or not anything matches. Every kind shares the
    throttle of the typed text and the hourly limit of the client address."""
    typed = normalize_typed(typed)
    name = _throttle_name(typed)
    address = context.address
    throttle_bursts_flush()
    username_lock(username=name)
    refusal = password_attempt_refusal(username=name, address=address)
    if refusal is not None:
        raise refusal
    if not rate_limit_hit(
        scope="password_reset", keys={f"addr:{address or '-'}": RESETS_PER_ADDRESS}
    ):
        raise Refused(RefusalCode.RESET_LIMIT)
    # Every request counts as one guess: a few are free, then the delay grows.
    password_failure_record(username=name, address=address)
    mail_enqueue_composed(kind=kind, params={**(params or {}), "typed": typed, "address": address})


def reset_accounts(*, typed: str) -> list[User]:
    """The teacher accounts a typed username or e-mail address names: active,
    not removed, with a password and an address to mail."""
    if not typed:
        return []
    return list(
        User.objects.filter(
            Q(username=typed) | Q(email__iexact=typed),
            role=Role.TEACHER,
            is_active=True,
            removed_at__isnull=True,
        )
        .exclude(email="")
        .order_by("pk")[:MAX_ACCOUNTS]
    )


def password_reset_compose(*, params: dict) -> list[dict] | None:
    """The code mails for a queued request, or None when the text names no
    teacher account (or each has had its codes this hour). Audited at each
    school of the account, as its logins are."""
    context = AuditContext(address=params.get("address"))
    mails = []
    for account in reset_accounts(typed=normalize_typed(params.get("typed", ""))):
        if not account.has_usable_password():
            continue
        try:
            email_code_mail_limit(users=[account], purpose=EmailCodePurpose.RESET_PASSWORD)
        except Refused:
            continue
        mails.append(
            email_code_create(
                user=account,
                purpose=EmailCodePurpose.RESET_PASSWORD,
                context=context,
                scopes=login_scopes(account) or [{}],
            )
        )
    return mails or None
