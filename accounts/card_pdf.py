"""The matrix card on paper: one A4 page, made in the request that issues it.

Nothing here is stored: the PDF is built from the `IssuedCard` returned by
`card_issue`, which is the only place the clear cells ever exist. The page
that hands the PDF out shows the same card as an HTML table
(templates/accounts/_card_table.html, rows from `card_rows`).
"""

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.models import CARD_COLUMNS, CARD_ROWS, User
from accounts.services.cards import IssuedCard
from core.i18n import localized_path
from core.pdf import render_pdf


def card_rows(cells: dict[str, str]) -> list[tuple[int, list[str]]]:
    """The card as the paper shows it: each row's number and its eight cells, A–H."""
    return [(row, [cells[f"{column}{row}"] for column in CARD_COLUMNS]) for row in CARD_ROWS]


def _instructions(login_url: str) -> list[str]:
    return [
        _("How to log in to E-services:"),
        _("1. Go to %(url)s and type your username and password.") % {"url": login_url},
        _(
            "2. The page asks for three cells, for example C4. Type the two characters in "
            "that cell of this card (upper or lower case does not matter)."
        ),
        _(
            "Your password comes on a paper of its own. Keep the card apart from it, and "
            "change the password under My account in E-services if you like."
        ),
        _(
            "Never show the card to anyone: nobody from the school, the huvudman or the "
            "national administration asks for its contents."
        ),
        _(
            "If you lose the card or it is locked, contact whoever gave it to you. A new card "
            "replaces this one at once: check the serial number."
        ),
    ]


def render_card_pdf(*, user: User, card: IssuedCard) -> bytes:
    """One A4 page in the active language, tagged (`core.pdf`): the grid as a
    table with its row and column headers, serial, issue date, username and
    how to log in.

    SECURITY: never the password. The card and the password are the two
    factors of the login; on one sheet, one lost paper would be both.
    """
    login_url = settings.SITE_URL.rstrip("/") + localized_path(settings.ETJANSTER_LOGIN_URL)
    return render_pdf(
        template="pdf/card.html",
        title=_("Login matrix card %(serial)s") % {"serial": card.serial},
        context={
            "facts": [
                _("Name: %(name)s") % {"name": user.get_full_name() or user.username},
                _("Username: %(username)s") % {"username": user.username},
                _("Serial number: %(serial)s") % {"serial": card.serial},
                _("Issued: %(date)s") % {"date": formats.date_format(card.issued_on)},
            ],
            "columns": CARD_COLUMNS,
            "rows": card_rows(card.cells),
            "instructions": _instructions(login_url),
        },
    )
