"""Logging in with the school's account, in Chromium, against a real
identity provider: SimpleSAMLphp (Debian's package) served by PHP on a free
port, its configuration generated for this run (tests/federation/simplesamlphp.py).

A teacher with an account proves it once with the password and opens
protected material; the next login needs no proof. A teacher of a huvudman
that trusts its IdP's e-mail links without proof, but the same address from
another huvudman's IdP does not. A principal whose school login used two
factors reaches E-tjänster; one whose login used a password only is told why
and sent to the card login. (The tampered answers are tests/federation/.)

No `clock` here: SimpleSAMLphp keeps the real time, and its answers are
valid for minutes only.
"""

import re

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect

from accounts.services.cards import card_issue
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.models import AuditEvent
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


# Another huvudman's IdP: its own kim, with the same e-mail address as ours.
OTHER_USERS = {
    "kim": (
        "kim-andra-pass",
        {"eduPersonPrincipalName": ["kim@andraskolbolaget.se"], "mail": ["kim@example.se"]},
    ),
}


def _start_idp(live_server, **kwargs):
    why = simplesamlphp.available()
    if why:
        if IN_CI:
            pytest.fail(f"CI=true but {why}: .ci/run installs it.")
        pytest.skip(why)
    return simplesamlphp.start(
        sp_entity_id=f"{live_server.url}/saml2/metadata/",
        acs_url=f"{live_server.url}/saml2/acs/",
        sp_cert_file=django_settings.SAML_SP_CERT_FILE,
        **kwargs,
    )


@pytest.fixture(scope="module")
def idp_server(live_server):
    """One SimpleSAMLphp for the module; each test registers it anew (the
    database is emptied between tests)."""
    server = _start_idp(live_server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def other_idp_server(live_server):
    server = _start_idp(live_server, users=OTHER_USERS)
    yield server
    server.stop()


@pytest.fixture
def school_idp(idp_server, live_server, settings, huvudman):
    settings.SITE_URL = live_server.url
    return IdentityProvider.objects.create(
        huvudman=huvudman,
        entity_id=idp_server.extra["entity_id"],
        metadata_xml=idp_server.extra["metadata"],
        eppn_scopes="testkommun.se",
    )


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


def through_the_school(page: Page, username: str, password: str, huvudman: str = "") -> None:
    """From a login page: "Log in with your school's account", the huvudman, the IdP's form."""
    page.locator("a[href^='/logga-in/skolkonto/']").click()
    page.locator("ul.choices a", has_text=huvudman).first.click()
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


def test_the_huvudmans_trusted_email_links_directly_but_not_from_another_huvudman(
    own_page: Page, live_server, school_idp, other_idp_server, other_huvudman, teacher
):
    page = own_page
    make_material("matte-prov", title="Nationellt prov i matematik")
    teacher.email = "kim@example.se"
    teacher.save(update_fields=["email"])
    school_idp.trust_email = True
    school_idp.save(update_fields=["trust_email"])
    other_idp = IdentityProvider.objects.create(
        huvudman=other_huvudman,
        entity_id=other_idp_server.extra["entity_id"],
        metadata_xml=other_idp_server.extra["metadata"],
        eppn_scopes="andraskolbolaget.se",
        trust_email=True,
    )
    login = (
        live_server.url
        + "/bedomningsportalen/logga-in/?next=/bedomningsportalen/material/matte-prov/"
    )

    # The same address from another huvudman's IdP: proof first, no link yet.
    page.goto(login)
    through_the_school(page, "kim", OTHER_USERS["kim"][0], huvudman=other_huvudman.name)
    expect(page).to_have_url(re.compile(r"/logga-in/skolkonto/bekrafta/$"))
    expect(page.get_by_role("heading", name="Bekräfta att kontot är ditt")).to_be_visible()
    expect(page.get_by_text("kim@andraskolbolaget.se")).to_be_visible()
    expect(page.get_by_text("Andra skolbolaget AB")).to_be_visible()
    assert not FederatedIdentity.objects.exists()

    # Its own huvudman's IdP, which it trusts: straight to the material.
    page.context.clear_cookies()
    page.goto(login)
    through_the_school(page, "kim", simplesamlphp.USERS["kim"][0], huvudman="Testkommun")
    expect(page).to_have_url(re.compile(r"/bedomningsportalen/material/matte-prov/$"))
    expect(page.get_by_role("link", name=re.compile("Ladda ner"))).to_be_visible()
    identity = FederatedIdentity.objects.get()
    assert (identity.user, identity.idp, identity.proof) == (teacher, school_idp, "trusted_email")
    assert not FederatedIdentity.objects.filter(idp=other_idp).exists()


def test_a_principal_without_two_factors_is_told_why_and_sent_to_the_card_login(
    own_page: Page, live_server, school_idp, principal
):
    page = own_page
    FederatedIdentity.objects.create(
        idp=school_idp, subject="bitr@testkommun.se", user=principal, proof="password"
    )
    page.goto(live_server.url + "/e-tjanster/logga-in/")
    through_the_school(page, "bitr", simplesamlphp.USERS["bitr"][0])

    expect(page).to_have_url(re.compile(r"/saml2/fortsatt/"))
    expect(page.get_by_role("heading", name="E-tjänster kräver två faktorer")).to_be_visible()
    expect(
        page.get_by_text(
            "Logga in med ditt användarnamn, lösenord och din inloggningsmatris i stället."
        )
    ).to_be_visible()
    page.get_by_role("link", name="Logga in med lösenord och inloggningsmatris").click()
    expect(page).to_have_url(re.compile(r"/e-tjanster/logga-in/$"))
    expect(page.locator("#id_username")).to_be_visible()

    # No E-tjänster session: its start page sends the principal back to the login.
    page.goto(live_server.url + "/e-tjanster/")
    expect(page).to_have_url(re.compile(r"/e-tjanster/logga-in/"))
    refusal = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert refusal.details["refused"] == "federation_no_mfa"
    assert refusal.details["idp"] == school_idp.entity_id
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_SUCCEEDED).exists()
