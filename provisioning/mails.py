"""The mail a new teacher from the school's system gets: the login slip (with
its first password) as a PDF, which the mail worker renders (`core.outbox`'s
composer registry), so approving a school of hundreds does not wait for
hundreds of PDFs.

SECURITY: the password waits in the outbox sealed (as every queued mail
does) and is erased once sent; it is shown to nobody else.
"""

import dataclasses
import datetime
from base64 import b64encode

from django.utils import translation
from django.utils.translation import gettext as _

from core.outbox import mails_enqueue_composed
from permissions.slips import Slip, portal_login_url, render_slips

WELCOME_MAIL = "ss12000_welcome"


def welcome_mails_enqueue(*, slips: list[tuple[Slip, str]]) -> int:
    """Queue each (slip, school e-mail) in one query, in the active language."""
    language = translation.get_language() or "sv"
    return mails_enqueue_composed(
        kind=WELCOME_MAIL,
        params=[
            {
                "slip": {**dataclasses.asdict(slip), "valid_until": slip.valid_until.isoformat()},
                "to": email,
                "language": language,
            }
            for slip, email in slips
        ],
    )


def welcome_mail_compose(*, params: dict) -> dict:
    fields = params["slip"]
    slip = Slip(**{**fields, "valid_until": datetime.date.fromisoformat(fields["valid_until"])})
    with translation.override(params["language"]):
        return {
            "subject": _("Your login to Bedömningsportalen"),
            "body": _(
                "Hello %(name)s,\n\nyour school %(school)s has registered you as a teacher in "
                "Bedömningsportalen, from the school's own system. Your login is in the "
                "attached PDF. Log in at %(url)s\n"
            )
            % {"name": slip.name, "school": slip.school_name, "url": portal_login_url()},
            "to": [params["to"]],
            "reply_to": [],
            "attachments": [
                [
                    f"inloggning-{slip.username}.pdf",
                    b64encode(render_slips([slip])).decode("ascii"),
                    "application/pdf",
                ]
            ],
        }
