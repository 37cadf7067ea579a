"""The matrix card on paper: one A4 page, made in the request that issues it.

Nothing here is stored: the PDF is built from the `IssuedCard` returned by
`card_issue`, which is the only place the clear cells ever exist. The page
that hands the PDF out shows the same card as an HTML table
(templates/accounts/_card_table.html, rows from `card_rows`).
"""

import io

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit

from accounts.models import CARD_COLUMNS, CARD_ROWS, User
from accounts.services.cards import IssuedCard
from core.i18n import localized_path
from core.pdf import SANS, SANS_BOLD, TEXT_SIZE, new_canvas

CELL_SIZE = 18


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
    """One A4 page in the active language: the grid, serial, issue date,
    username and how to log in.

    SECURITY: never the password. The card and the password are the two
    factors of the login; on one sheet, one lost paper would be both.
    """
    buffer = io.BytesIO()
    pdf = new_canvas(
        buffer,
        title=_("Login matrix card %(serial)s") % {"serial": card.serial},
        pagesize=A4,
    )
    width, height = A4
    left = 25 * mm
    text_width = width - 2 * left
    y = height - 28 * mm

    pdf.setFont(SANS_BOLD, 20)
    pdf.drawString(left, y, _("Login matrix card – E-services"))
    y -= 12 * mm
    pdf.setFont(SANS, TEXT_SIZE + 1)
    lines = [
        _("Name: %(name)s") % {"name": user.get_full_name() or user.username},
        _("Username: %(username)s") % {"username": user.username},
        _("Serial number: %(serial)s") % {"serial": card.serial},
        _("Issued: %(date)s") % {"date": formats.date_format(card.issued_on)},
    ]
    for line in lines:
        pdf.drawString(left, y, line)
        y -= 7 * mm

    # The grid: a header row A–H and ten numbered rows.
    y -= 5 * mm
    cell_w, cell_h = 16 * mm, 10 * mm
    grid_left = left + 12 * mm
    pdf.setFont(SANS_BOLD, 14)
    for index, column in enumerate(CARD_COLUMNS):
        pdf.drawCentredString(grid_left + (index + 0.5) * cell_w, y + 2 * mm, column)
    for row in CARD_ROWS:
        top = y - (row - 1) * cell_h
        pdf.setFont(SANS_BOLD, 14)
        pdf.drawRightString(grid_left - 3 * mm, top - cell_h + 3.2 * mm, str(row))
        pdf.setFont(SANS_BOLD, CELL_SIZE)
        for index, column in enumerate(CARD_COLUMNS):
            x = grid_left + index * cell_w
            pdf.rect(x, top - cell_h, cell_w, cell_h)
            pdf.drawCentredString(
                x + cell_w / 2, top - cell_h + 2.8 * mm, card.cells[f"{column}{row}"]
            )
    y -= len(CARD_ROWS) * cell_h + 12 * mm

    login_url = settings.SITE_URL.rstrip("/") + localized_path(settings.ETJANSTER_LOGIN_URL)
    for paragraph in _instructions(login_url):
        for line in simpleSplit(paragraph, SANS, TEXT_SIZE, text_width):
            pdf.setFont(SANS, TEXT_SIZE)
            pdf.drawString(left, y, line)
            y -= 6 * mm
        y -= 1.5 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
