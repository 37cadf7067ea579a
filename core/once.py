"""A confirmed act is done once: sending its confirmation form again (a
reload of the page that shows a new password or card, Back and send again,
a double click) does nothing the second time.

Each confirmation page (and the teacher registration form) carries a fresh
random token (`once_token`, the form field `ONCE_FIELD`). The act runs inside
`spent_once`, whose transaction also records the token as spent
(`SpentFormToken`, unique per user): a repeated form is caught before acting
(`once_repeated`), and two sent at the same moment, on one app server or
two, meet at the unique index, where the later one fails and its act is
rolled back (`Repeated`). An act that is refused spends nothing, so the
form may be sent again. A form without a token (an old page, a script)
acts as before. Two confirmation pages in two tabs are two confirmations,
each with its own token.
"""

import datetime
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import SpentFormToken

ONCE_FIELD = "once"
MAX_LENGTH = 64
# Older tokens are pruned when the user spends the next one.
KEEP_FOR = datetime.timedelta(days=1)


class Repeated(Exception):
    """The form's token was spent by another request: nothing was done."""


def once_token() -> str:
    return secrets.token_urlsafe(16)


def _posted(request: HttpRequest) -> str:
    token = request.POST.get(ONCE_FIELD, "") if request.method == "POST" else ""
    return token if 0 < len(token) <= MAX_LENGTH else ""


def once_repeated(request: HttpRequest) -> bool:
    """Whether this POST carries a token an earlier act already spent."""
    token = _posted(request)
    return (
        bool(token)
        and request.user.is_authenticated
        and SpentFormToken.objects.filter(user_id=request.user.pk, token=token).exists()
    )


@contextmanager
def spent_once(request: HttpRequest) -> Iterator[None]:
    """Run the act (the `with` body) and spend the form's token in one
    transaction; `Repeated`, with the act rolled back, when another request
    spent it first. An exception from the act spends nothing."""
    with transaction.atomic():
        yield
        token = _posted(request)
        if token and request.user.is_authenticated:
            try:
                with transaction.atomic():
                    SpentFormToken.objects.create(user_id=request.user.pk, token=token)
            except IntegrityError:
                raise Repeated from None
            SpentFormToken.objects.filter(
                user_id=request.user.pk, spent_at__lt=timezone.now() - KEEP_FOR
            ).delete()


def said_repeated(request: HttpRequest, done_url: str, *, credentials: bool) -> HttpResponse:
    """The answer to a form sent again: on to `done_url`, saying that nothing
    was done (and, for `credentials`, that a password or card is shown once)."""
    messages.info(request, _repeated_message(credentials=credentials))
    return redirect(done_url)


def _repeated_message(*, credentials: bool) -> str:
    said = _(
        "That form had already been sent (for example when the page was reloaded), so nothing "
        "was done this time."
    )
    if credentials:
        said += " " + _(
            "A new password or matrix card is shown only once: if another one is needed, "
            "start again."
        )
    return said
