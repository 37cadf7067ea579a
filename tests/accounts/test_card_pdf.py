"""The printed card: every cell on the paper opens the card."""

import io

from django.utils import formats, timezone
from django_otp import verify_token
from pypdf import PdfReader

from accounts.card_pdf import render_card_pdf
from tests.fixtures.pdfs import pdf_text, printed_cells


def test_every_printed_cell_is_accepted(principal, principal_card):
    pages, text = pdf_text(render_card_pdf(user=principal, card=principal_card))
    assert pages == 1
    cells = printed_cells(text)
    assert len(cells) == 80
    assert cells == principal_card.cells
    device = principal_card.device
    # Answer every printed cell through verification, three at a time.
    names = list(cells)
    for start in range(0, 80, 3):
        asked = (names + names)[start : start + 3]
        device.refresh_from_db()
        device.challenge = ",".join(asked)
        device.challenge_issued_at = timezone.now()
        device.save()
        token = "".join(cells[name] for name in asked)
        assert verify_token(principal, device.persistent_id, token), asked


def test_card_shows_serial_date_username_and_how_to_log_in_but_never_a_password(
    principal, principal_card
):
    _, text = pdf_text(render_card_pdf(user=principal, card=principal_card))
    assert principal_card.serial in text
    assert formats.date_format(principal_card.issued_on) in text
    assert principal.username in text
    assert "/e-tjanster/logga-in/" in text
    # SECURITY: the card and the password are two factors; the card says so
    # (that the issuing pages never put the password on it is tested there).
    assert "Lösenordet får du på ett eget papper" in text
    assert "Mitt konto" in text


def test_the_card_function_takes_no_password(principal, principal_card):
    import inspect

    assert "password" not in inspect.signature(render_card_pdf).parameters


def pdf_facts(data: bytes) -> dict:
    """Title, language, the fonts each page uses and the sizes its text is set in."""
    reader = PdfReader(io.BytesIO(data))
    sizes: set[float] = set()
    fonts: set[str] = set()

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            # The size on paper, in points: the font size scaled by the text
            # matrix and by the page's matrix (WeasyPrint draws in CSS pixels).
            sizes.add(round(font_size * tm[0] * cm[0], 1))
            fonts.add(str(font_dict["/BaseFont"]) if font_dict else "")

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    return {
        "title": reader.metadata.title,
        "lang": str(reader.trailer["/Root"].get("/Lang")),
        "display_title": reader.trailer["/Root"]["/ViewerPreferences"].get("/DisplayDocTitle"),
        "fonts": fonts,
        "smallest": min(sizes),
    }


def test_the_card_pdf_has_a_title_a_language_and_no_text_under_12_points(principal, principal_card):
    from django.utils import translation

    with translation.override("sv"):
        facts = pdf_facts(render_card_pdf(user=principal, card=principal_card))
    assert facts["title"] == f"Inloggningsmatris {principal_card.serial}"
    assert facts["lang"] == "sv"
    assert facts["display_title"]
    assert facts["smallest"] >= 12
    # The cells in a typeface that tells 8/B, 5/S, 2/Z and 6/G apart, embedded.
    assert all("Atkinson-Hyperlegible" in font for font in facts["fonts"]), facts["fonts"]

    with translation.override("en"):
        english = render_card_pdf(user=principal, card=principal_card)
    assert pdf_facts(english)["lang"] == "en"
    assert "How to log in to E-services" in pdf_text(english)[1]


def test_slips_have_a_title_a_language_and_no_text_under_12_points():
    from permissions.slips import Slip, render_slips
    from tests.conftest import END_OF_YEAR

    slip = Slip(
        name="Lars Lärarsson",
        username="lars1234",
        school_name="Testskolan",
        valid_until=END_OF_YEAR,
        password="abcd-2345-EFGH",
    )
    facts = pdf_facts(render_slips([slip, slip]))
    assert facts["title"] == "Inloggningslappar"
    assert facts["lang"] == "sv"
    assert facts["smallest"] >= 12
    assert all("Atkinson-Hyperlegible" in font for font in facts["fonts"]), facts["fonts"]
