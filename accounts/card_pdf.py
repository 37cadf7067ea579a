"""The matrix card on paper: one A4 page, made in the request that issues it.

Nothing here is stored: the PDF is built from the `IssuedCard` returned by
`card_issue`, which is the only place the clear cells ever exist.
"""

import io

from django.conf import settings
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from accounts.models import CARD_COLUMNS, CARD_ROWS, User
from accounts.services import IssuedCard

MONO = "Courier-Bold"
SANS = "Helvetica"
SANS_BOLD = "Helvetica-Bold"

# Printed in Swedish: the paper goes to the holder, whatever the issuer's language.
INSTRUCTIONS = [
    "Så loggar du in i E-tjänster:",
    "1. Gå till {login_url} och skriv ditt användarnamn och lösenord.",
    "2. Sidan frågar efter tre rutor, till exempel C4. Skriv de två tecknen",
    "   som står i den rutan på kortet (stora eller små bokstäver går bra).",
    "Lösenordet får du på ett eget papper. Förvara kortet för sig, aldrig tillsammans",
    "med lösenordet. Byt gärna lösenordet under Mitt konto i E-tjänster.",
    "Visa aldrig kortet för någon: ingen från skolan, huvudmannen eller Skolverket",
    "frågar efter innehållet.",
    "Tappar du bort kortet eller låses det: kontakta den som gav dig kortet.",
    "Ett nytt kort ersätter det här direkt. Kontrollera serienumret.",
]


def render_card_pdf(*, user: User, card: IssuedCard) -> bytes:
    """One A4 page: the grid, serial, issue date, username and how to log in.

    SECURITY: never the password. The card and the password are the two
    factors of the login; on one sheet, one lost paper would be both.
    """
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Inloggningsmatris {card.serial}")
    pdf.setAuthor("Behörighetsportalen")
    width, height = A4
    left = 25 * mm
    y = height - 30 * mm

    pdf.setFont(SANS_BOLD, 18)
    pdf.drawString(left, y, "Inloggningsmatris – E-tjänster")
    y -= 12 * mm
    pdf.setFont(SANS, 11)
    lines = [
        f"Namn: {user.get_full_name() or user.username}",
        f"Användarnamn: {user.username}",
        f"Serienummer: {card.serial}",
        f"Utfärdat: {card.issued_on.isoformat()}",
    ]
    for line in lines:
        pdf.drawString(left, y, line)
        y -= 6 * mm

    # The grid: a header row A–H and ten numbered rows.
    y -= 6 * mm
    cell_w, cell_h = 16 * mm, 10 * mm
    grid_left = left + 12 * mm
    pdf.setFont(SANS_BOLD, 12)
    for index, column in enumerate(CARD_COLUMNS):
        pdf.drawCentredString(grid_left + (index + 0.5) * cell_w, y + 2 * mm, column)
    for row in CARD_ROWS:
        top = y - (row - 1) * cell_h
        pdf.setFont(SANS_BOLD, 12)
        pdf.drawRightString(grid_left - 3 * mm, top - cell_h + 3.2 * mm, str(row))
        pdf.setFont(MONO, 16)
        for index, column in enumerate(CARD_COLUMNS):
            x = grid_left + index * cell_w
            pdf.rect(x, top - cell_h, cell_w, cell_h)
            pdf.drawCentredString(
                x + cell_w / 2, top - cell_h + 3 * mm, card.cells[f"{column}{row}"]
            )
    y -= len(CARD_ROWS) * cell_h + 12 * mm

    pdf.setFont(SANS, 10)
    login_url = settings.SITE_URL.rstrip("/") + settings.ETJANSTER_LOGIN_URL
    for line in INSTRUCTIONS:
        pdf.drawString(left, y, line.format(login_url=login_url))
        y -= 5.5 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
