"""A confirmed act is done once: sending its confirmation form again (a
reload of the page that shows a new password or card, Back and send again)
does nothing the second time.

Each confirmation page carries a fresh random token (`once_token`, the form
field `ONCE_FIELD`). Acting spends it in the session (`once_spend`), which is
a database row like every session, so every app server sees it; a
confirmation posted with a spent token is not carried out (`once_repeated`),
and the person reads why (`once_repeated_message`). A form without a token
(an old page, a script) acts as before. Two confirmation pages in two tabs
are two confirmations, each with its own token.
"""

import secrets

from django.http import HttpRequest
from django.utils.translation import gettext as _

ONCE_FIELD = "once"
SESSION_KEY = "accounts_once_spent"
# The newest spent tokens a session keeps: more than anyone has open pages.
KEEP = 30
MAX_LENGTH = 64


def once_token() -> str:
    return secrets.token_urlsafe(16)


def _posted(request: HttpRequest) -> str:
    token = request.POST.get(ONCE_FIELD, "") if request.method == "POST" else ""
    return token if 0 < len(token) <= MAX_LENGTH else ""


def once_repeated(request: HttpRequest) -> bool:
    """Whether this POST carries a token an earlier act already spent."""
    token = _posted(request)
    spent = request.session.get(SESSION_KEY)
    return bool(token) and isinstance(spent, list) and token in spent


def once_spend(request: HttpRequest) -> None:
    """Mark this POST's token spent (before acting: see the module's doc)."""
    token = _posted(request)
    if not token:
        return
    spent = request.session.get(SESSION_KEY)
    spent = [item for item in spent if item != token] if isinstance(spent, list) else []
    request.session[SESSION_KEY] = [*spent[-(KEEP - 1) :], token]


def once_repeated_message() -> str:
    return _(
        "That form had already been sent (for example when the page was reloaded), so nothing "
        "was done this time. A new password or matrix card is shown only once: if another one "
        "is needed, start again."
    )
