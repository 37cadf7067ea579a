# ruff: noqa: F811 (the fixtures are those of test_school_admin)
"""Issue 9 in Chromium: removing a teacher takes a confirmation and only the
second step removes; a new password after 15 minutes asks for a card cell."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.e2e.test_school_admin import PASSWORD, log_in, principal_with_card, school  # noqa: F401
from tests.fixtures.staff import make_teachers

pytestmark = pytest.mark.django_db(transaction=True)


def test_removing_a_teacher_asks_first_and_only_the_second_step_removes(
    page: Page, live_server, principal_with_card, school, clock
):
    principal, cells = principal_with_card
    (membership,) = make_teachers(school, 1, prefix="e")
    teacher = membership.user
    log_in(page, live_server.url, principal.username, PASSWORD, cells)
    page.goto(f"{live_server.url}/e-tjanster/skolor/{school.code}/larare/{teacher.username}/")
    page.get_by_role("button", name="Ta bort från skolan").click()

    # The first step only asks, naming the person, the school and the consequence.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ta bort Förnamn0 Efternamn0")
    expect(page.get_by_text("Kontot raderas eftersom det är lärarens sista skola")).to_be_visible()
    expect(page.get_by_text("Webbskolan (12345678)", exact=True)).to_be_visible()
    assert User.objects.filter(pk=teacher.pk).exists()
    page.get_by_role("link", name="Avbryt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Förnamn0 Efternamn0")
    assert User.objects.filter(pk=teacher.pk).exists()

    page.get_by_role("button", name="Ta bort från skolan").click()
    page.get_by_role("button", name="Ta bort och radera kontot").click()
    expect(page.get_by_text("Förnamn0 Efternamn0 är borttagen")).to_be_visible()
    assert not User.objects.filter(pk=teacher.pk).exists()


def test_a_new_password_after_fifteen_minutes_asks_for_a_card_cell_first(
    page: Page, live_server, principal_with_card, school, clock
):
    principal, cells = principal_with_card
    (membership,) = make_teachers(school, 1, prefix="p")
    teacher = membership.user
    log_in(page, live_server.url, principal.username, PASSWORD, cells)
    clock.shift(datetime.timedelta(minutes=16))
    page.goto(f"{live_server.url}/e-tjanster/skolor/{school.code}/larare/{teacher.username}/")
    page.get_by_role("button", name="Nytt lösenord").click()

    expect(page.get_by_text("Bekräfta med din inloggningsmatris")).to_be_visible()
    label = page.locator("label[for=id_reauth_cell]").inner_text()
    cell = label.removeprefix("Ruta ").strip()
    page.get_by_label(label, exact=True).fill(cells[cell])
    page.get_by_role("button", name="Ge ett nytt lösenord").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Nytt lösenord")
    password = page.locator("dt:has-text('Lösenord') + dd code").inner_text()
    teacher.refresh_from_db()
    assert teacher.check_password(password)
