"""Credential slips (inloggningslappar) as PDF: one per person, many per batch.

SECURITY: a slip may carry a password in clear, so it is rendered in the
request that issued the password and handed to the browser (or mailed); it is
never written to disk or stored in the database.
"""

import dataclasses
import datetime
from base64 import b64encode

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.i18n import localized_path
from core.outbox import mail_enqueue, mails_enqueue_composed
from core.pdf import render_pdf

# The login addresses printed on slips are the ones the settings define.
PORTAL_LOGIN_PATH = settings.PORTAL_LOGIN_URL
ETJANSTER_LOGIN_PATH = settings.ETJANSTER_LOGIN_URL
# The most slips in one PDF. PERFORMANCE: a tagged slip takes about 10 ms
# to lay out on an idle core (several times that on a busy one), so a CSV
# import of thousands is printed in parts of this many, each well inside the
# app server's 30-second timeout.
SLIPS_PER_PDF = 200


@dataclasses.dataclass(frozen=True)
class Slip:
    name: str
    username: str
    school_name: str
    # None for an account without a school-year validity (a principal).
    valid_until: datetime.date | None
    # Empty for an existing account linked to another school: the teacher
    # knows it, and the linking principal needs no more than "use your login".
    # Only at the moment of issue or regeneration; None means "use your login".
    password: str | None = None
    # The address the slip's holder logs in at.
    login_path: str = PORTAL_LOGIN_PATH


def portal_login_url() -> str:
    return settings.SITE_URL + localized_path(PORTAL_LOGIN_PATH)


def render_slips(slips: list[Slip]) -> bytes:
    """One A4 page per slip, in the order given, as one tagged PDF
    (`core.pdf`).

    In the active language: the paper is in the language of the page that
    printed it, and its login address opens the site in that language.
    """
    return render_pdf(
        template="pdf/slips.html",
        title=_("Login slips"),
        context={"slips": [_slip_page(slip) for slip in slips]},
    )


def _slip_page(slip: Slip) -> dict:
    """What one slip's page says: a heading, its facts (the username and the
    password set large: they are typed from the paper) and what to keep in mind."""
    heading = (
        _("Your login to Bedömningsportalen")
        if slip.login_path == PORTAL_LOGIN_PATH
        else _("Your login to E-services")
    )
    rows = [
        (_("Name"), slip.name, ""),
        (_("School unit"), slip.school_name, ""),
        (
            _("Username"),
            slip.username or _("Unchanged: use the username you already have."),
            "typed" if slip.username else "",
        ),
        (
            _("Password"),
            slip.password or _("Unchanged: use the password you already have."),
            "typed" if slip.password else "",
        ),
        (_("Log in at"), settings.SITE_URL + localized_path(slip.login_path), "address"),
    ]
    if slip.valid_until is not None:
        rows.append((_("Valid until"), formats.date_format(slip.valid_until), ""))
    # Only a slip that carries a password says how it is kept: one without
    # says nothing of a password "shown only at issue" that it does not show.
    paragraphs = (
        [_("Keep this slip safe. The password is shown only at issue and cannot be recovered.")]
        if slip.password
        else []
    )
    if slip.valid_until is None:
        # A principal: issued by the huvudman, valid without a school year.
        paragraphs += [
            _("If you lose it, ask your huvudman for a new password; the username stays the same."),
            _("Change the password under My account in E-services."),
        ]
    else:
        paragraphs += [
            _(
                "If you lose it, ask your principal for a new password; the username stays "
                "the same."
            ),
            _("Access to protected material follows the school year and ends on 31 July."),
        ]
    return {"heading": heading, "rows": rows, "paragraphs": paragraphs}


def send_slip_by_mail(*, slip: Slip, email: str) -> None:
    """Mail the slip as a PDF attachment once the registration is committed."""
    # In the language of the page that registered the teacher (the mail is
    # rendered now, in this request, and sent after the commit).
    filename = f"inloggning-{slip.username}.pdf" if slip.username else "inloggning.pdf"
    mail_enqueue(
        subject=_("Your login to Bedömningsportalen"),
        body=_(
            "Hello %(name)s,\n\nyour principal has registered you as a teacher at "
            "%(school)s. Your login is in the attached PDF. Log in at %(url)s\n"
        )
        % {"name": slip.name, "school": slip.school_name, "url": portal_login_url()},
        to=[email],
        attachments=[(filename, render_slips([slip]), "application/pdf")],
    )


# The kind of outbox mail that carries a slip (without password) the school
# sends again; the worker renders its PDF (`slip_mail_compose`).
SLIP_MAIL = "teacher_slip"


def slips_send_by_mail(*, slips: list[tuple[Slip, str]]) -> int:
    """Queue each (slip, address) as a mail whose PDF the mail worker renders,
    in the active language; one query however many.

    SECURITY: only slips without a password: the params wait in the outbox
    (sealed, erased once sent) and a slip sent again never carries one.
    """
    if any(slip.password for slip, _email in slips):
        raise ValueError("A slip sent again never carries a password.")
    return mails_enqueue_composed(kind=SLIP_MAIL, params=slip_mail_params(slips))


def slip_mail_params(slips: list[tuple[Slip, str]]) -> list[dict]:
    """What the worker needs to compose each (slip, address)'s mail later, in
    the active language (JSON: the date as ISO text)."""
    language = translation.get_language() or "sv"
    return [
        {
            "slip": {**dataclasses.asdict(slip), "valid_until": slip.valid_until.isoformat()},
            "to": email,
            "language": language,
        }
        for slip, email in slips
    ]


def slip_mail_compose(*, params: dict) -> dict:
    """The mail of a slip sent again, composed by the mail worker."""
    return slip_mail_composed(
        params=params,
        subject=gettext_noop("Your login to Bedömningsportalen"),
        body=gettext_noop(
            "Hello %(name)s,\n\nyour school %(school)s sends you your login to "
            "Bedömningsportalen in the attached PDF. Your password is the one you already "
            "have. Log in at %(url)s\n"
        ),
    )


def slip_mail_composed(*, params: dict, subject: str, body: str) -> dict:
    """The mail of one `slip_mail_params` item: `subject` and `body` (msgids,
    `body` with %(name)s, %(school)s and %(url)s) in its language, the slip's
    PDF attached."""
    fields = params["slip"]
    slip = Slip(**{**fields, "valid_until": datetime.date.fromisoformat(fields["valid_until"])})
    with translation.override(params["language"]):
        return {
            "subject": _(subject),
            "body": _(body)
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
