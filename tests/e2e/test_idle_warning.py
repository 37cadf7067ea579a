# ruff: noqa: F811 (the fixtures are those of test_school_admin)
"""The idle warning in Chromium: two minutes before the idle timeout the page
says so; "Fortsätt" keeps the session, and the warning goes away."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_school_admin import PASSWORD, log_in, principal_with_card, school  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_minutes_before_the_timeout_the_page_warns_and_continue_keeps_the_session(
    page: Page, live_server, principal_with_card, school, clock
):
    principal, cells = principal_with_card
    page.clock.install()
    log_in(page, live_server.url, principal.username, PASSWORD, cells)
    # The deferred script has started its clock (before this, a jump would be lost).
    page.wait_for_function(
        "() => window.localStorage.getItem('behorighetsportalen.sessionEndsAt') !== null"
    )
    warning = page.get_by_text("Du loggas ut om två minuter")
    expect(warning).to_be_hidden()
    page.clock.fast_forward("27:00")
    expect(warning).to_be_hidden()
    clock.shift(datetime.timedelta(minutes=28, seconds=30))
    page.clock.fast_forward("01:30")
    expect(warning).to_be_visible()
    expect(page.get_by_role("button", name="Fortsätt")).to_be_focused()
    page.get_by_role("button", name="Fortsätt").click()
    expect(warning).to_be_hidden()
    # The server pushed the timeout on: 20 more minutes later the session still works.
    clock.shift(datetime.timedelta(minutes=20))
    page.get_by_role("link", name="Webbskolan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lärare")
