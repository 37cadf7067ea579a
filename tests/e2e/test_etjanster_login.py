"""A principal logs in to E-tjänster with password and three cells of the card."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role, User
from accounts.services.cards import card_issue
from audit.context import AuditContext
from schools.models import Huvudman, PrincipalAssignment
from tests.conftest import make_school

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "ett-langt-rektorslosenord-42"


@pytest.fixture
def principal_with_card():
    huvudman = Huvudman.objects.create(
        name="Webbkommun",
        organisationsnummer="212000-0142",
        contact_name="Kim Kontakt",
        contact_email="kontakt@webbkommun.se",
    )
    school = make_school("33333333", "Webbskolan", huvudman, ["grundskola"])
    user = User.objects.create_user(
        "webbrektor", password=PASSWORD, role=Role.PRINCIPAL, first_name="Rut", last_name="Rektor"
    )
    PrincipalAssignment.objects.create(user=user, school_unit=school)
    return user, card_issue(user=user, context=AuditContext.system())


def asked_cells(page: Page) -> list[str]:
    """The cells the page asks for, read off the large labels."""
    labels = page.locator("label .cell-name").all_inner_texts()
    assert len(labels) == 3
    return labels


def log_in_with_password(page: Page, live_server) -> None:
    page.goto(live_server.url + "/e-tjanster/")
    expect(page).to_have_url(re.compile(r"/e-tjanster/logga-in/"))
    page.get_by_label("Användarnamn").fill("webbrektor")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", name="Logga in med din inloggningsmatris")).to_be_visible()


def test_principal_logs_in_with_password_and_three_cells(
    page: Page, live_server, principal_with_card
):
    _user, card = principal_with_card
    log_in_with_password(page, live_server)
    for cell in asked_cells(page):
        page.get_by_label(f"Ruta {cell}", exact=True).fill(card.cells[cell].lower())
    page.get_by_role("button", name="Logga in").click()
    expect(page).to_have_url(live_server.url + "/e-tjanster/")
    expect(page.get_by_text("Webbskolan")).to_be_visible()
    expect(page.get_by_text("Inloggad som Rut Rektor", exact=True)).to_be_visible()

    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_text("Du är utloggad.")).to_be_visible()
    page.goto(live_server.url + "/e-tjanster/")
    expect(page).to_have_url(re.compile(r"/e-tjanster/logga-in/"))


def test_a_wrong_answer_shows_the_same_cells_after_reload(
    page: Page, live_server, principal_with_card
):
    _user, card = principal_with_card
    log_in_with_password(page, live_server)
    cells = asked_cells(page)
    for cell in cells:
        page.get_by_label(f"Ruta {cell}", exact=True).fill(
            "ZZ" if card.cells[cell] != "ZZ" else "YY"
        )
    page.get_by_role("button", name="Logga in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Svaret stämde inte med ditt kort.")
    expect(alert).to_contain_text("Försök igen kl.")
    for cell in cells:
        expect(alert).not_to_contain_text(cell)
    page.reload()
    assert asked_cells(page) == cells
    # The outline marks where the cells are, and shows no values.
    outline = page.get_by_role("table", name="Här finns rutorna på ditt kort")
    expect(outline.locator("td.asked")).to_have_count(3)
    assert sorted(outline.locator("td.asked").all_inner_texts()) == sorted(cells)
