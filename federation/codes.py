"""The mailed code as the proof that links a school account to an existing
account: the other way than the account's password ("confirm once with that
account's password or a code mailed to its address").

No second code mechanism: the request is `password_reset`'s (throttled under
the typed text and the client address, the same answer and the same work
whatever was typed, the mail worker deciding who gets a code), and the code
is an `EmailCode` (keyed hash, single use, 30 minutes, wrong codes throttled
and audited) of its own purpose, which proves the address for this link only
and never sets a password.

SECURITY: only teacher accounts get a code here, as with "Glömt
lösenordet?": principals and test administrators link with their password
(E-tjänster's accounts are the role above's to protect). An account already
linked at the IdP gets none.
"""

from accounts.models import User
from accounts.scopes import login_scopes
from audit.context import AuditContext
from core.refusals import Refused
from federation.models import IdentityProvider
from permissions.models import EmailCodePurpose
from permissions.services.codes import email_code_create, email_code_mail_limit
from permissions.services.confirmations import email_code_prove
from permissions.services.password_reset import (
    email_code_request,
    normalize_typed,
    reset_accounts,
)

# The outbox kind; `FederationConfig.ready` registers its composer.
LINK_CODE_MAIL = "school_account_code"
PURPOSE = EmailCodePurpose.LINK_SCHOOL_ACCOUNT


def link_code_request(
    *, typed: str, context: AuditContext, idp: IdentityProvider, subject: str
) -> None:
    """Ask for a code to the account the typed username or e-mail address
    names, to link the school account `subject` at `idp`. Raises `Refused`
    (THROTTLED with `retry_at`, RESET_LIMIT) as "Glömt lösenordet?" does,
    never depending on whether the text names an account."""
    email_code_request(
        typed=typed,
        context=context,
        kind=LINK_CODE_MAIL,
        params={"idp": idp.pk, "subject": subject},
    )


def link_code_compose(*, params: dict) -> list[dict] | None:
    """The code mails for a queued request: to each teacher account the text
    names (with or without a password), within its hourly limit of codes, not
    yet linked at the IdP; None when there is nobody. Audited where the
    account's logins are."""
    idp = (
        IdentityProvider.objects.select_related("huvudman")
        .filter(pk=params.get("idp"), is_active=True)
        .first()
    )
    if idp is None:
        return None
    context = AuditContext(address=params.get("address"))
    mails = []
    for account in reset_accounts(typed=normalize_typed(params.get("typed", ""))):
        if account.federated_identities.filter(idp=idp).exists():
            continue
        try:
            email_code_mail_limit(users=[account], purpose=PURPOSE)
        except Refused:
            continue
        mails.append(
            email_code_create(
                user=account,
                purpose=PURPOSE,
                context=context,
                scopes=login_scopes(account),
                mail_values={
                    "school_account": params.get("subject", ""),
                    "huvudman": idp.huvudman.name,
                },
            )
        )
    return mails or None


def link_code_prove(*, username: str, code: str, context: AuditContext) -> User:
    """The account whose mailed code this is (spent now). Raises `Refused`
    (THROTTLED, CODE_WRONG, CODE_USED, CODE_EXPIRED), throttled and audited."""
    return email_code_prove(username=username, code=code, purpose=PURPOSE, context=context)
