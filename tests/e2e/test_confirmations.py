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


def test_removing_a_teacher_asks_first_and_the_removal_can_be_undone(
    page: Page, live_server, principal_with_card, school, clock
):
    principal, cells = principal_with_card
    (membership,) = make_teachers(school, 1, prefix="e")
    teacher = membership.user
    log_in(page, live_server.url, principal.username, PASSWORD, cells)
    page.goto(f"{live_server.url}/e-tjanster/skolor/{school.code}/larare/{teacher.username}/")
    page.get_by_role("button", name="Ta bort från skolan").click()

    # The first step only asks, naming the person and the school.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ta bort Förnamn0 Efternamn0")
    expect(page.get_by_text("Webbskolan (12345678)", exact=True)).to_be_visible()
    page.get_by_role("link", name="Avbryt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Förnamn0 Efternamn0")
    assert User.objects.get(pk=teacher.pk).is_active

    # The same, on the English site: the last school closes the account for 30 days.
    base = f"{live_server.url}/en/e-tjanster/skolor/{school.code}/"
    page.goto(f"{base}larare/{teacher.username}/")
    page.get_by_role("button", name="Remove from this school").click()
    expect(page.get_by_text("you can restore it here")).to_be_visible()
    page.get_by_role("button", name="Remove and close the account").click()
    expect(page.get_by_text("is deleted after 30 days")).to_be_visible()
    closed = User.objects.get(pk=teacher.pk)
    assert (closed.is_active, closed.removed_at is not None) == (False, True)

    # "Removed teachers" brings the account back, with its subjects.
    page.goto(f"{base}larare-borttagna/")
    expect(page.get_by_text("Account closed")).to_be_visible()
    page.get_by_role("button", name="Restore: Förnamn0 Efternamn0").click()
    expect(page.get_by_text("is a teacher at this school again")).to_be_visible()
    restored = User.objects.get(pk=teacher.pk)
    assert (restored.is_active, restored.removed_at) == (True, None)


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
