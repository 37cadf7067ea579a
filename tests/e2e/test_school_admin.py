"""A principal runs a school in E-tjänster in Chromium: logs in with password
and card, registers a teacher and downloads the slip, edits the subjects,
imports a CSV (the preview names the bad row; the fixed file applies),
issues a test administrator, who logs in with its own card, registers a
teacher and has no way to remove one."""

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from accounts.card_pdf import render_card_pdf  # noqa: F401 (the PDF the page hands out)
from accounts.models import Role, User
from accounts.services.cards import card_issue
from audit.context import AuditContext
from schools.models import PrincipalAssignment
from tests.conftest import make_school
from tests.e2e.conftest import download_bytes
from tests.fixtures.pdfs import printed_cells

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "rektorns-langa-losenord-42"


@pytest.fixture
def school():
    from schools.models import Huvudman

    huvudman = Huvudman.objects.create(name="E2E kommun", organisationsnummer="212000-0142")
    return make_school("12345678", "Webbskolan", huvudman, ["grundskola"])


@pytest.fixture
def principal_with_card(school):
    user = User.objects.create_user(
        username="rektore2e",
        password=PASSWORD,
        role=Role.PRINCIPAL,
        first_name="Rut",
        last_name="Rektor",
        email="rut@skola.example",
    )
    PrincipalAssignment.objects.create(user=user, school_unit=school)
    return user, card_issue(user=user, context=AuditContext.system()).cells


def log_in(page: Page, base: str, username: str, password: str, cells: dict[str, str]) -> None:
    page.goto(base + "/e-tjanster/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("inloggningsmatris")
    for name in page.locator(".cell-name").all_inner_texts():
        page.get_by_label(f"Ruta {name}", exact=True).fill(cells[name].lower())
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1, name="E-tjänster")).to_be_visible()


def download_pdf_text(page: Page, link_name: str) -> str:
    data = download_bytes(page, link_name)
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages)


def test_principal_runs_a_school_and_a_test_admin_helps(
    page: Page, live_server, principal_with_card
):
    principal, cells = principal_with_card
    base = live_server.url
    log_in(page, base, principal.username, PASSWORD, cells)

    # Register a teacher with two subjects and download the slip.
    page.get_by_role("link", name="Webbskolan").click()
    page.get_by_role("link", name="Registrera lärare").click()
    page.get_by_label("Förnamn").fill("Nora")
    page.get_by_label("Efternamn").fill("Nilsson")
    page.get_by_role("textbox", name="E-post").fill("nora@skola.example")
    page.get_by_label(re.compile(r"Matematik \(grundskola")).check()
    page.get_by_label(re.compile(r"Svenska \(grundskola")).check()
    page.get_by_role("button", name="Registrera", exact=True).click()
    expect(page.get_by_role("heading", name="Läraren är registrerad")).to_be_visible()
    nora = User.objects.get(email="nora@skola.example")
    slip = download_pdf_text(page, "Ladda ner lappen (PDF)")
    assert nora.username in slip
    assert "/bedomningsportalen/logga-in/" in slip

    # Edit the subjects on the teacher's page.
    page.get_by_role("link", name="Öppna lärarens sida").click()
    page.get_by_label(re.compile(r"Svenska \(grundskola")).uncheck()
    page.get_by_label(re.compile(r"Engelska \(grundskola")).check()
    page.get_by_role("button", name="Spara ämnen").click()
    expect(page.get_by_text("Ämnena är sparade.")).to_be_visible()
    codes = set(nora.memberships.get().subjects.values_list("code", flat=True))
    assert codes == {"GRGRMAT01", "GRGRENG01"}

    # Import three teachers; one row is bad, then the fixed file applies.
    page.get_by_role("link", name="Importera från CSV").click()
    bad = "Förnamn;Efternamn;E-post;Ämnen\nAda;Ek;ada@skola.example;GRGRMAT01\n"
    bad += "Bo;Al;bo-utan-snabel-a;GRGRMAT01\nCe;Ok;ce@skola.example;GRGRSVE01 GRGRMAT01\n"
    page.get_by_label("CSV-fil").set_input_files(
        {"name": "larare.csv", "mimeType": "text/csv", "buffer": bad.encode("cp1252")}
    )
    page.get_by_role("button", name="Granska filen").click()
    expect(page.get_by_role("alert")).to_contain_text("Rad 3:")
    expect(page.get_by_role("button", name="Importera", exact=True)).to_have_count(0)
    fixed = bad.replace("bo-utan-snabel-a", "bo@skola.example")
    page.get_by_label("CSV-fil").set_input_files(
        {"name": "larare.csv", "mimeType": "text/csv", "buffer": fixed.encode("cp1252")}
    )
    page.get_by_role("button", name="Granska filen").click()
    page.get_by_role("button", name="Importera", exact=True).click()
    expect(page.get_by_role("heading", name="Lärarna är importerade")).to_be_visible()
    with page.expect_download() as info:  # a form button: the slips wait sealed on the server
        page.get_by_role("button", name="Ladda ner lapparna (PDF)").click()
    slips = "\n".join(p.extract_text() for p in PdfReader(info.value.path()).pages)
    for email in ("ada@skola.example", "bo@skola.example", "ce@skola.example"):
        assert User.objects.get(email=email).username in slips

    # The school's log shows what was done; the new-school-year page has nothing yet.
    page.get_by_role("link", name="Logg", exact=True).click()
    expect(page.get_by_role("cell", name="Lärare importerade från CSV")).to_be_visible()
    page.get_by_role("link", name="Nytt läsår").click()
    expect(page.get_by_text("det finns inget att återaktivera")).to_be_visible()

    # Issue a test administrator and read its card off the PDF.
    page.get_by_role("link", name="Provadministratörer").click()
    page.get_by_label("Förnamn").fill("Pia")
    page.get_by_label("Efternamn").fill("Provare")
    page.get_by_role("textbox", name="E-post").fill("pia@skola.example")
    page.get_by_role("button", name="Utfärda").click()
    expect(page.get_by_role("heading", name="Provadministratörens inloggning")).to_be_visible()
    pia = User.objects.get(email="pia@skola.example", role=Role.TEST_ADMIN)
    pia_password = page.locator("dt:has-text('Lösenord') + dd code").inner_text()
    # The card and the password come on separate papers: the card never has it.
    card_text = download_pdf_text(page, "Ladda ner kortet (PDF)")
    assert pia_password not in card_text
    pia_cells = printed_cells(card_text)
    assert pia_password in download_pdf_text(page, "Ladda ner lösenordslappen (PDF)")
    page.get_by_role("button", name="Logga ut").click()

    # The test administrator logs in with its own card and registers a teacher.
    log_in(page, base, pia.username, pia_password, pia_cells)
    expect(page.get_by_role("link", name="Provadministratörer")).to_have_count(0)
    page.get_by_role("link", name="Webbskolan").click()
    page.get_by_role("link", name="Registrera lärare").click()
    page.get_by_label("Förnamn").fill("Tor")
    page.get_by_label("Efternamn").fill("Tester")
    page.get_by_role("textbox", name="E-post").fill("tor@skola.example")
    page.get_by_label(re.compile(r"Matematik \(grundskola")).check()
    page.get_by_role("button", name="Registrera", exact=True).click()
    expect(page.get_by_role("heading", name="Läraren är registrerad")).to_be_visible()
    page.get_by_role("link", name="Öppna lärarens sida").click()
    expect(page.get_by_role("button", name="Spara ämnen")).to_be_visible()
    expect(page.get_by_role("button", name="Ta bort från skolan")).to_have_count(0)
