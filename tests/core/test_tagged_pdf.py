"""Printed PDFs are tagged (PDF/UA-1): a structure tree a screen reader
follows, with headings, tables and their header cells, and nothing but the
fonts is ever fetched while rendering."""

import io
import os
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from accounts.card_pdf import render_card_pdf
from core.pdf import FontsOnly
from permissions.slips import Slip, render_slips
from tests.conftest import END_OF_YEAR

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def structure_roles(data: bytes) -> list[str]:
    """Every structure element's role, depth first, from the catalog's
    /StructTreeRoot; the catalog must also say the document is marked."""
    catalog = PdfReader(io.BytesIO(data)).trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    roles: list[str] = []

    def visit(node) -> None:
        node = node.get_object()
        if not isinstance(node, dict):
            return
        if "/S" in node:
            roles.append(str(node["/S"]))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            visit(kid)

    visit(catalog["/StructTreeRoot"])
    return roles


def slip(**changes) -> Slip:
    values = {
        "name": "Lars Lärarsson",
        "username": "lars1234",
        "school_name": "Testskolan",
        "valid_until": END_OF_YEAR,
        "password": "abcd-2345-EFGH",
    }
    return Slip(**{**values, **changes})


def test_a_slip_is_tagged_with_a_heading_and_a_table_of_row_headers():
    roles = structure_roles(render_slips([slip(), slip()]))
    assert roles[0] == "/Document"
    assert roles.count("/H1") == 2
    assert roles.count("/Table") == 2
    # Each fact's label is the header of its row.
    assert roles.count("/TH") == 2 * 6
    assert "/P" in roles


def test_the_card_is_tagged_with_its_grid_as_a_table_with_headers(principal, principal_card):
    roles = structure_roles(render_card_pdf(user=principal, card=principal_card))
    assert roles.count("/H1") == 1
    assert roles.count("/Table") == 1
    # Columns A–H and rows 1–10 are headers; the 80 cells are data.
    assert roles.count("/TH") == 8 + 10
    assert roles.count("/TD") >= 80


def test_pdfinfo_says_the_slips_are_tagged():
    pdfinfo = shutil.which("pdfinfo")
    if not pdfinfo:
        # .ci/run installs it; elsewhere say what is missing.
        if IN_CI:
            pytest.fail("CI=true but poppler-utils is not installed: .ci/run installs it.")
        pytest.skip("poppler-utils (pdfinfo) is not installed")
    info = subprocess.run(
        [pdfinfo, "-"], input=render_slips([slip()]), capture_output=True, check=True
    ).stdout.decode()
    assert "Tagged:          yes" in info
    assert "Title:           Inloggningslappar" in info


def test_the_renderer_fetches_nothing_but_the_fonts(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for paper")
    with pytest.raises(ValueError, match="only its fonts"):
        FontsOnly(allowed_protocols=("file",)).fetch(secret.as_uri())
