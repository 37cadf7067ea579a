"""The mail a new teacher from the school's system gets: the login slip (with
its first password) as a PDF, which the mail worker renders (`core.outbox`'s
composer registry), so approving a school of hundreds does not wait for
hundreds of PDFs.

SECURITY: the password waits in the outbox sealed (as every queued mail
does) and is erased once sent; it is shown to nobody else.
"""

from django.utils.translation import gettext_noop

from core.outbox import mails_enqueue_composed
from permissions.slips import Slip, slip_mail_composed, slip_mail_params

WELCOME_MAIL = "ss12000_welcome"


def welcome_mails_enqueue(*, slips: list[tuple[Slip, str]]) -> int:
    """Queue each (slip, school e-mail) in one query, in the active language."""
    return mails_enqueue_composed(kind=WELCOME_MAIL, params=slip_mail_params(slips))


def welcome_mail_compose(*, params: dict) -> dict:
    return slip_mail_composed(
        params=params,
        subject=gettext_noop("Your login to Bedömningsportalen"),
        body=gettext_noop(
            "Hello %(name)s,\n\nyour school %(school)s has registered you as a teacher in "
            "Bedömningsportalen, from the school's own system. Your login is in the "
            "attached PDF. Log in at %(url)s\n"
        ),
    )
