"""What every printed PDF (matrix card, credential slips, the handover)
shares: one way to make it, from an HTML template, tagged.

Each PDF is rendered by WeasyPrint from a template under `templates/pdf/`
as PDF/UA-1: a structure tree (headings, tables with their header cells,
paragraphs) that screen readers follow, the document's title shown instead
of the file name, and its language (the active one). The same words are on
the page that hands the PDF out.

Atkinson Hyperlegible (core/fonts/, SIL OFL 1.1) keeps B/8, S/5, Z/2 and
G/6 apart for readers with low vision; it is embedded in each PDF, so
nothing depends on the reader's fonts.

PERFORMANCE: WeasyPrint lays out every page as a browser would, about
10 ms a slip on this machine against ReportLab's 0.7 ms (see
docs/accessibility.md); a batch is one document, never one per slip, and
the largest batches (a CSV import) are printed in parts.
"""

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_URL = FONT_DIR.as_uri()
# The smallest size of any text on paper (instructions included): the hand
# audit found 9–10 pt hard to read; tests check that nothing is smaller.
TEXT_SIZE = 12
PDF_VARIANT = "pdf/ua-1"


class FontsOnly(URLFetcher):
    # SECURITY: the templates carry names and addresses typed by people;
    # Django escapes them, and even so the renderer may fetch nothing but
    # the embedded fonts (no other file of the server, no network address).
    def fetch(self, url, headers=None):
        if not url.startswith(FONT_URL + "/"):
            raise ValueError(f"A PDF may load only its fonts, not {url!r}.")
        return super().fetch(url, headers)


def render_pdf(*, template: str, context: dict, title: str) -> bytes:
    """`template` (extending `pdf/base.html`) as a tagged PDF titled `title`,
    in the active language."""
    html = render_to_string(
        template,
        {
            **context,
            "title": title,
            "lang": translation.get_language() or "sv",
            "font_url": FONT_URL,
            "text_size": TEXT_SIZE,
        },
    )
    return HTML(string=html, url_fetcher=FontsOnly(allowed_protocols=("file",))).write_pdf(
        pdf_variant=PDF_VARIANT, font_config=FontConfiguration()
    )
