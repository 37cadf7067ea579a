"""Browser tests: Playwright driving Debian's Chromium against live_server.

Outside CI they skip, saying why, when no Chromium is installed; with
CI=true a missing browser is an error, never a skip. axe-core runs on every
page a test loads, with the WCAG 2.1 A and AA rules, and fails the test on a
violation of any impact (test_accessibility.py also crawls every page).
"""

import datetime
import os
import shutil

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.conftest import SCHOOL_DAY
from tests.e2e.crawl import AXE_OPTIONS
from tests.fixtures.material import STOCKHOLM

# Playwright's sync API runs an event loop in this thread; Django refuses ORM
# calls from a thread with a running loop unless told it is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("CI=true but Debian's chromium is not installed: .ci/run installs it.")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "sv-SE", "timezone_id": "Europe/Stockholm"}


class AxeWatch:
    """Runs axe-core on each page load and collects its violations."""

    def __init__(self, page):
        self.page = page
        self.axe = Axe()
        self.violations: list[str] = []
        self.checked: list[str] = []
        self.running = False
        self.pending = False

    def check(self) -> None:
        # Playwright dispatches "load" while the test waits on another call,
        # even while an earlier axe run is still evaluating; a second run in
        # the same document fails ("Axe is already running"). Run one at a
        # time and check the newest page once the running one is done.
        if self.running:
            self.pending = True
            return
        self.running = True
        try:
            self._check_current()
            while self.pending:
                self.pending = False
                self._check_current()
        finally:
            self.running = False

    def _check_current(self) -> None:
        url = self.page.url
        if not url.startswith("http") or url in self.checked[-1:]:
            return
        try:
            results = self.axe.run(self.page, options=AXE_OPTIONS)
        except PlaywrightError as error:
            # The page navigated away mid-run; its successor has its own load.
            if "destroyed" in str(error) or "closed" in str(error):
                return
            raise
        self.checked.append(url)
        for violation in results.response["violations"]:
            targets = [node["target"] for node in violation["nodes"]][:3]
            self.violations.append(f"{url}: {violation['id']} ({violation['impact']}) {targets}")


@pytest.fixture
def clock():
    """10:00 in Stockholm on a school day; ticks, and the live server follows."""
    moment = datetime.datetime.combine(SCHOOL_DAY, datetime.time(10), tzinfo=STOCKHOLM)
    with time_machine.travel(moment, tick=True) as traveller:
        yield traveller


def log_in_to_portal(page: Page, username: str, password: str) -> None:
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()


def download_bytes(page: Page, link_name: str) -> bytes:
    """Click a download link as a person would and return the file's bytes."""
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    with open(info.value.path(), "rb") as handle:
        return handle.read()


@pytest.fixture
def page(page, live_server):
    """Playwright's page, with axe-core run on every page the test loads."""
    watch = AxeWatch(page)
    page.on("load", lambda _page: watch.check())
    page.set_default_timeout(15_000)
    yield page
    # The page the test ended on counts too, even if it never fired another load.
    # A run that met a navigation (its document destroyed) checked nothing:
    # on a loaded machine that can be the only run, so try again once the
    # page has settled.
    for _attempt in range(3):
        # The last load's run may still be going: Playwright runs the
        # handler in a greenlet of its own, which waits while this one does,
        # and a check now would only mark itself pending. Let it end first
        # (on fast pages the earlier runs had all met the next navigation,
        # so that run was the only one left).
        for _wait in range(200):
            if not watch.running:
                break
            page.wait_for_timeout(50)
        watch.check()
        if watch.checked:
            break
        page.wait_for_load_state("load")
    assert not watch.violations, "Accessibility violations:\n" + "\n".join(watch.violations)
    assert watch.checked, "axe-core checked no page"
