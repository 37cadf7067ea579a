"""Logging in with the school's account, in Chromium, against a real
identity provider: SimpleSAMLphp (Debian's package) served by PHP on a free
port, its configuration generated for this run (tests/federation/simplesamlphp.py).

A teacher with an account proves it once with the password and opens
protected material; the next login needs no proof. A principal whose
school login used two factors reaches E-tjänster. (The refusals, the
trusted e-mail and the tampered answers are tests/federation/.)

No `clock` here: SimpleSAMLphp keeps the real time, and its answers are
valid for minutes only.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services.cards import card_issue
from audit.context import AuditContext
from federation.models import FederatedIdentity, IdentityProvider
from tests.e2e.conftest import IN_CI, AxeWatch, log_in_to_portal
from tests.federation import simplesamlphp
from tests.fixtures.material import make_material

pytestmark = pytest.mark.django_db(transaction=True)


class OwnPagesAxe(AxeWatch):
    """axe-core on our own pages; SimpleSAMLphp's login page is the school's, not ours."""

    def __init__(self, page, own: str):
        super().__init__(page)
        self.own = own

    def _check_current(self) -> None:
        if self.page.url.startswith(self.own):
            super()._check_current()


@pytest.fixture
def school_idp(live_server, settings, huvudman):
    why = simplesamlphp.available()
    if why:
        if IN_CI:
            pytest.fail(f"CI=true but {why}: .ci/run installs it.")
        pytest.skip(why)
    settings.SITE_URL = live_server.url
    server = simplesamlphp.start(
        sp_entity_id=f"{live_server.url}/saml2/metadata/",
        acs_url=f"{live_server.url}/saml2/acs/",
        sp_cert_file=settings.SAML_SP_CERT_FILE,
    )
    idp = IdentityProvider.objects.create(
        huvudman=huvudman,
        entity_id=server.extra["entity_id"],
        metadata_xml=server.extra["metadata"],
        eppn_scopes="testkommun.se",
    )
    yield idp
    server.stop()


@pytest.fixture
def own_page(browser, live_server):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = OwnPagesAxe(page, live_server.url)
    page.on("load", lambda _page: watch.check())
    yield page
    context.close()
    assert not watch.violations, "Accessibility violations:\n" + "\n".join(watch.violations)
    assert watch.checked, "axe-core checked no page"


def through_the_school(page: Page, username: str, password: str) -> None:
    """From a login page: "Log in with your school's account", the huvudman, the IdP's form."""
    page.locator("a[href^='/logga-in/skolkonto/']").click()
    page.locator("ul.choices a").first.click()
    if username:
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.locator("#submit_button").click()


def test_a_teacher_proves_the_account_once_and_a_principal_needs_two_factors(
    own_page: Page, live_server, school_idp, teacher, principal
):
    page = own_page
    make_material("matte-prov", title="Nationellt prov i matematik")
    page.goto(
        live_server.url
        + "/bedomningsportalen/logga-in/?next=/bedomningsportalen/material/matte-prov/"
    )
    through_the_school(page, "kim", simplesamlphp.USERS["kim"][0])

    # The first time: the account's own password, once.
    expect(page).to_have_url(re.compile(r"/logga-in/skolkonto/bekrafta/$"))
    expect(page.get_by_text("kim@testkommun.se")).to_be_visible()
    log_in_to_portal(page, "larare", "larare-password-1234")
    expect(page).to_have_url(re.compile(r"/bedomningsportalen/material/matte-prov/$"))
    expect(page.get_by_role("link", name=re.compile("Ladda ner"))).to_be_visible()
    assert FederatedIdentity.objects.get().user == teacher

    # Logged out, then in again: the school account alone (the IdP remembers kim).
    page.get_by_role("button", name="Logga ut").click()
    page.goto(live_server.url + "/bedomningsportalen/logga-in/")
    through_the_school(page, "", "")
    expect(page).to_have_url(re.compile(r"/bedomningsportalen/$"))

    # A principal whose school login used two factors reaches E-tjänster.
    FederatedIdentity.objects.create(
        idp=school_idp, subject="rektor@testkommun.se", user=principal, proof="password"
    )
    card_issue(user=principal, context=AuditContext.system())
    page.context.clear_cookies()
    page.goto(live_server.url + "/e-tjanster/logga-in/")
    through_the_school(page, "rektor", simplesamlphp.USERS["rektor"][0])
    expect(page).to_have_url(re.compile(r"/e-tjanster/$"))
