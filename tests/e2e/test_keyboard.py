"""A principal who uses only the keyboard logs in with password and card and
registers a teacher: no mouse, no click, every step reached with Tab,
typed, and sent with Enter or Space. After an empty submit the focus is on
the error summary, and its links lead into the fields."""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role, User
from audit.context import AuditContext
from schools.models import Huvudman, PrincipalAssignment
from tests.conftest import make_school
from tests.e2e.test_school_admin import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

FOCUSED = """() => {
  const el = document.activeElement;
  return {
    id: el.id,
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || "").trim(),
    label: el.labels && el.labels[0] ? el.labels[0].innerText.trim() : "",
  };
}"""


def focused(page: Page) -> dict:
    return page.evaluate(FOCUSED)


def follow(page: Page, key: str = "Enter") -> None:
    """Press a key that loads a new page, and wait for it."""
    with page.expect_navigation():
        page.keyboard.press(key)


def tab_to(page: Page, matches, *, limit: int = 80) -> int:
    """Press Tab until `matches(focused element)`; return how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if matches(focused(page)):
            return presses
    raise AssertionError(f"Tab never reached the element; last focused: {focused(page)}")


@pytest.fixture
def principal_with_card(clock):
    from accounts.services.cards import card_issue

    huvudman = Huvudman.objects.create(name="Tangentkommun", organisationsnummer="212000-0142")
    school = make_school("12345678", "Tangentskolan", huvudman, ["grundskola"])
    user = User.objects.create_user(
        username="tangentrektor", password=PASSWORD, role=Role.PRINCIPAL, first_name="Tove"
    )
    PrincipalAssignment.objects.create(user=user, school_unit=school)
    return user, card_issue(user=user, context=AuditContext.system()).cells


def test_principal_logs_in_and_registers_a_teacher_with_the_keyboard_only(
    page: Page, live_server, principal_with_card
):
    principal, cells = principal_with_card
    page.goto(live_server.url + "/e-tjanster/logga-in/")

    # Step 1: the skip link first, then the fields in reading order.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_focused()
    tab_to(page, lambda el: el["id"] == "id_username")
    page.keyboard.type(principal.username)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_password"
    page.keyboard.type(PASSWORD)
    follow(page)

    # Step 2: the first asked cell has focus; Tab goes through the others.
    expect(page.get_by_role("heading", level=1)).to_contain_text("inloggningsmatris")
    for number, name in enumerate(page.locator(".cell-name").all_inner_texts()):
        if number:
            page.keyboard.press("Tab")
        assert focused(page)["id"] == f"cell-{name}"
        page.keyboard.type(cells[name])
    follow(page)
    expect(page.get_by_role("heading", level=1, name="E-tjänster")).to_be_visible()

    # To the school, then to its registration form.
    tab_to(page, lambda el: el["tag"] == "a" and el["text"] == "Tangentskolan")
    follow(page)
    tab_to(page, lambda el: el["tag"] == "a" and el["text"] == "Registrera lärare")
    follow(page)
    expect(page.get_by_role("heading", level=1, name="Registrera lärare")).to_be_visible()

    # An empty submit: the error summary has focus and names every field.
    presses = tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Registrera")
    # The school reaches grundskola only: its 20 subjects, then "show all"
    # (the header, the school's menu — with "Från skolans system" since
    # issue 21 — and the fields take the other 20 or so; with all 40
    # subjects it was 58).
    assert presses <= 43, presses
    follow(page)
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.title().startswith("Fel:")
    summary = page.locator("#error-summary")
    expect(summary.get_by_role("link")).to_have_count(3)

    # The summary's first link leads into the first name field.
    page.keyboard.press("Tab")
    assert focused(page)["text"].startswith("Förnamn:")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_first_name"
    page.keyboard.type("Kim")
    page.keyboard.press("Tab")
    page.keyboard.type("Keyboard")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_email"
    page.keyboard.type("kim@skola.example")
    tab_to(page, lambda el: el["label"].startswith("Matematik (grundskola"))
    page.keyboard.press("Space")
    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Registrera")
    follow(page)

    expect(page.get_by_role("heading", name="Läraren är registrerad")).to_be_visible()
    kim = User.objects.get(email="kim@skola.example")
    assert list(kim.memberships.get().subjects.values_list("code", flat=True)) == ["GRGRMAT01"]
