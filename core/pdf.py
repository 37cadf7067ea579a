"""What every printed PDF (matrix card, credential slips) shares: the
typeface and the document's title and language.

Atkinson Hyperlegible (core/fonts/, SIL OFL 1.1) keeps B/8, S/5, Z/2 and
G/6 apart for readers with low vision; it is embedded in each PDF, so
nothing depends on the reader's fonts. ReportLab cannot tag a PDF (no
structure tree), so the page that hands a PDF out shows the same content
as HTML (see the accessibility statement).
"""

import io
from pathlib import Path

from django.utils import translation
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SANS = "AtkinsonHyperlegible"
SANS_BOLD = "AtkinsonHyperlegible-Bold"
# The smallest size of any text on paper (instructions included): the hand
# audit found 9–10 pt hard to read; tests check that nothing is smaller.
TEXT_SIZE = 12


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    for name, filename in (
        (SANS, "AtkinsonHyperlegible-Regular.ttf"),
        (SANS_BOLD, "AtkinsonHyperlegible-Bold.ttf"),
    ):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))


def new_canvas(buffer: io.BytesIO, *, title: str, pagesize) -> Canvas:
    """A canvas whose PDF names its title (shown by readers instead of the
    file name) and its language (the active one, which screen readers use)."""
    _register_fonts()
    canvas = Canvas(
        buffer, pagesize=pagesize, pageCompression=1, lang=translation.get_language() or "sv"
    )
    canvas.setTitle(title)
    canvas.setAuthor("Behörighetsportalen")
    canvas.setViewerPreference("DisplayDocTitle", "true")
    return canvas
