"""WCAG 2.1 AA for every reader: each role crawls every page it can reach by
GET (both languages; the admin sites in Swedish), plus the form states that
links never reach: a failed submit, a wrong answer, a refusal, the pages
that show credentials once. See tests/e2e/crawl.py for what is checked.

The pages each crawl reached are printed (`pytest -s` shows them);
docs/accessibility.md says what the crawls cover.
"""

import io
import re
from contextlib import redirect_stdout

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import Role, User
from audit.context import AuditContext
from core.models import SiteNotice
from demo.management.commands.seed_demo import Command as SeedDemo
from permissions.models import Membership, Subject
from permissions.services import appointments
from portal.models import Material
from schools.models import SchoolUnit
from tests.conftest import SCHOOL_DAY
from tests.e2e.crawl import Report, check_page, crawl

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(clock):
    """seed_demo's people and schools, plus what makes every page state
    appear: a test administrator, a teacher awaiting reactivation and one
    without subjects, and a site notice on every page."""
    with redirect_stdout(io.StringIO()):
        data = SeedDemo().seed()
    grundskola = SchoolUnit.objects.get(code=data["teacher"]["school"])
    principal = User.objects.get(username=data["principal"]["username"])
    issued = appointments.test_admin_issue(
        school_unit=grundskola,
        context=AuditContext(actor=principal, school_unit=grundskola),
        first_name="Pia",
        last_name="Provadministratörsson",
        email="pia@demo-kommun.example",
        today=SCHOOL_DAY,
    )
    data["test_admin"] = {
        "username": issued.appointment.user.username,
        "password": issued.password,
        "cells": issued.card.cells,
    }
    last_year = User.objects.create_user(
        username="forraaret", role=Role.TEACHER, first_name="Frida", last_name="Förra"
    )
    Membership.objects.create(user=last_year, school_unit=grundskola, valid_until="2026-07-31")
    no_subjects = User.objects.create_user(
        username="utanamnen", role=Role.TEACHER, first_name="Ulf", last_name="Utan-Ämnen"
    )
    Membership.objects.create(user=no_subjects, school_unit=grundskola, valid_until="2027-07-31")
    now = timezone.now()
    SiteNotice.objects.create(
        title="Planerat underhåll",
        body="E-tjänster är stängt söndag 06–08.",
        starts_at=now - timezone.timedelta(days=1),
        ends_at=now + timezone.timedelta(days=1),
    )
    data["grundskola"] = grundskola.code
    return data


@pytest.fixture
def bare_page(context: BrowserContext) -> Page:
    """A page without the per-load axe watch: the crawl runs its own checks."""
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def failed_submit(page: Page, url: str, button: str, label: str, *, summary=True) -> Report:
    """Submit a form with nothing filled in and check the page that answers."""
    page.goto(url)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    if summary:
        # The error summary is announced and is where the keyboard starts.
        expect(page.locator("#error-summary")).to_be_focused()
        assert page.title().startswith("Fel:") or page.title().startswith("Error:")
    return check_page(page, label=label)


def etjanster_login(page: Page, base: str, username: str, password: str, cells: dict) -> Report:
    report = Report()
    page.goto(base + "/e-tjanster/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    asked = page.locator(".cell-name").all_inner_texts()
    # A wrong answer first: the matrix step's error state.
    for name in asked:
        page.get_by_label(f"Ruta {name}", exact=True).fill("??")
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator("#error-summary")).to_be_focused()
    report.merge(check_page(page, label="/e-tjanster/logga-in/matris/ (wrong answer)"))
    # The wrong answer started django-otp's one-second delay.
    page.wait_for_timeout(1100)
    for name in asked:
        page.get_by_label(f"Ruta {name}", exact=True).fill(cells[name])
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1, name="E-tjänster")).to_be_visible()
    return report


def admin_login(page: Page, base: str, site: str, username: str, password: str) -> None:
    device = TOTPDevice.objects.get(user__username=username)
    page.goto(f"{base}/{site}/login/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_label("Kod från din autentiseringsapp").fill(f"{code:06d}")
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator("#user-tools")).to_be_visible()


def assert_clean(role: str, report: Report) -> None:
    print(f"\n{role}: {len(report.pages)} page states in {report.seconds:.0f} s")
    for name in report.pages:
        print(f"  {name}")
    assert report.pages, "the crawl reached no page"
    assert not report.problems, f"{role}:\n" + "\n".join(report.problems)


def test_anonymous_visitor_can_use_every_page(bare_page: Page, live_server, demo):
    page, base = bare_page, live_server.url
    report = crawl(
        page,
        base,
        ["/", "/en/", "/finns-inte/", "/bedomningsportalen/glomt-losenord/nytt-losenord/"],
    )
    for path, button, name in [
        ("/bedomningsportalen/logga-in/", "Logga in", "portal login"),
        ("/e-tjanster/logga-in/", "Logga in", "E-tjänster login"),
        ("/kontakt/", "Skicka", "contact"),
        ("/kontakt/huvudman/", "Skicka kontaktuppgifterna till mig", "huvudman look-up"),
        ("/en/kontakt/", "Send", "contact in English"),
        ("/en/bedomningsportalen/glomt-losenord/", "Send me a code", "forgot password"),
    ]:
        report.merge(failed_submit(page, base + path, button, f"{path} ({name}, empty submit)"))
    # A wrong password: the message is in the error summary too.
    page.goto(base + "/bedomningsportalen/logga-in/")
    page.get_by_label("Användarnamn").fill("ingen-sadan")
    page.get_by_label("Lösenord").fill("fel-losenord")
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator("#error-summary")).to_contain_text("Fel användarnamn eller lösenord")
    report.merge(check_page(page, label="/bedomningsportalen/logga-in/ (wrong password)"))
    # Protected material: the refusal that asks for a login.
    protected = Material.objects.filter(is_protected=True).first()
    page.goto(f"{base}/bedomningsportalen/material/{protected.slug}/")
    report.merge(
        check_page(page, label=f"/bedomningsportalen/material/{protected.slug}/ (refused)")
    )
    # The admin sites' logins, including their failed submits.
    for site in ("admin", "huvudman"):
        path = f"/{site}/login/"
        report.merge(
            failed_submit(page, base + path, "Logga in", f"{path} (empty submit)", summary=False)
        )
    assert_clean("anonymous", report)


def test_teacher_can_use_every_page(bare_page: Page, live_server, demo):
    page, base = bare_page, live_server.url
    teacher = demo["teacher"]
    page.goto(base + "/bedomningsportalen/logga-in/")
    page.get_by_label("Användarnamn").fill(teacher["username"])
    page.get_by_label("Lösenord").fill(teacher["password"])
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("link", name=re.compile("Ditt konto"))).to_be_visible()
    report = crawl(page, base, ["/bedomningsportalen/", "/bedomningsportalen/konto/"])
    # Every item: those that open and each kind of refusal.
    for material in Material.objects.order_by("slug"):
        page.goto(f"{base}/bedomningsportalen/material/{material.slug}/")
        report.merge(check_page(page, label=f"/bedomningsportalen/material/{material.slug}/"))
    report.merge(
        failed_submit(
            page,
            base + "/bedomningsportalen/konto/",
            "Byt lösenord",
            "/bedomningsportalen/konto/ (empty submit)",
        )
    )
    assert_clean("teacher", report)


def test_principal_can_use_every_page(bare_page: Page, live_server, demo):
    page, base = bare_page, live_server.url
    principal, school = demo["principal"], demo["grundskola"]
    report = etjanster_login(
        page, base, principal["username"], principal["password"], principal["card"]["cells"]
    )
    # The demo grundskola first: its pages have every kind of row (active,
    # awaiting reactivation, no subjects, a test administrator).
    school_pages = f"/e-tjanster/skolor/{school}/"
    start = [
        "/e-tjanster/",
        school_pages + "larare/",
        school_pages + f"larare/{demo['teacher']['username']}/",
        school_pages + "provadministratorer/",
        school_pages + "logg/",
        "/e-tjanster/mitt-konto/",
    ]
    report.merge(crawl(page, base, start))
    teachers = f"{base}/e-tjanster/skolor/{school}/larare/"
    report.merge(failed_submit(page, teachers + "ny/", "Registrera", "larare/ny/ (empty submit)"))
    report.merge(
        failed_submit(page, teachers + "importera/", "Granska filen", "importera/ (empty submit)")
    )
    report.merge(
        failed_submit(
            page,
            f"{base}/e-tjanster/skolor/{school}/provadministratorer/",
            "Utfärda",
            "provadministratorer/ (empty submit)",
        )
    )
    # The pages that show a password or a card once.
    page.goto(teachers + "ny/")
    page.get_by_label("Förnamn").fill("Nils")
    page.get_by_label("Efternamn").fill("Nyström")
    page.get_by_role("textbox", name="E-post").fill("nils@demo-kommun.example")
    # Each check waits for the page the click leads to: axe run while the
    # browser is still between two pages finds no document.
    page.get_by_role("button", name="Registrera", exact=True).click()
    expect(page.get_by_role("link", name="Öppna lärarens sida")).to_be_visible()
    report.merge(check_page(page, label="larare/ny/ (registered, password shown once)"))
    page.get_by_role("link", name="Öppna lärarens sida").click()
    page.get_by_role("button", name="Nytt lösenord").click()
    expect(page.get_by_role("heading", name="Ge Nils Nyström ett nytt lösenord?")).to_be_visible()
    report.merge(check_page(page, label="larare/<username>/losenord/ (new password)"))
    page.goto(f"{base}/e-tjanster/skolor/{school}/provadministratorer/")
    page.get_by_label("Förnamn").fill("Per")
    page.get_by_label("Efternamn").fill("Provsson")
    page.get_by_role("textbox", name="E-post").fill("per@demo-kommun.example")
    page.get_by_role("button", name="Utfärda").click()
    expect(page.get_by_role("table", name=re.compile("Inloggningsmatris"))).to_be_visible()
    report.merge(check_page(page, label="provadministratorer/ (issued, card shown once)"))
    # A CSV whose second row is wrong: the preview with errors.
    page.goto(teachers + "importera/")
    csv = (
        "Förnamn;Efternamn;E-post;Ämnen\n"
        "Ada;Ek;ada@skola.example;GRGRMAT01\nBo;Al;inte-en-adress;GRGRMAT01\n"
    )
    page.get_by_label("CSV-fil").set_input_files(
        {"name": "larare.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    page.get_by_role("button", name="Granska filen").click()
    expect(page.get_by_text("inte-en-adress").first).to_be_visible()
    report.merge(check_page(page, label="importera/ (preview with errors)"))
    # Bulk work: tick every teacher (static/js/site.js), grant a subject,
    # and the confirmation that names the count (by ids: the words are in
    # the catalogue only once merged).
    page.goto(teachers)
    page.locator("[data-tick=all]").click()
    assert page.locator("input[name=teacher]:not(:checked)").count() == 0
    page.locator("#bulk-action").select_option("grant")
    page.locator("#bulk-subject").select_option("GRGRENG01")
    page.locator("fieldset.bulk button[type=submit]").click()
    expect(page.locator("input[name=confirm]")).to_have_count(1)
    report.merge(check_page(page, label="larare/markerade/ (confirm granting a subject)"))
    page.locator("form:has(input[name=confirm]) button[type=submit]").click()
    expect(page.locator("[data-tick=all]")).to_be_visible()
    assert_clean("principal", report)


def test_test_administrator_can_use_every_page(bare_page: Page, live_server, demo):
    page, base = bare_page, live_server.url
    test_admin, school = demo["test_admin"], demo["grundskola"]
    report = etjanster_login(
        page, base, test_admin["username"], test_admin["password"], test_admin["cells"]
    )
    report.merge(crawl(page, base, ["/e-tjanster/"], per_route=1))
    report.merge(
        failed_submit(
            page,
            f"{base}/e-tjanster/skolor/{school}/larare/ny/",
            "Registrera",
            "larare/ny/ (empty submit)",
        )
    )
    assert_clean("test administrator", report)


def test_huvudman_staff_can_use_every_page(bare_page: Page, live_server, demo):
    page, base = bare_page, live_server.url
    staff = demo["huvudman_staff"]
    admin_login(page, base, "huvudman", staff["username"], staff["password"])
    report = crawl(
        page, base, ["/huvudman/", "/huvudman/rapporter/", "/huvudman/aviseringar/"], per_route=1
    )
    report.merge(
        failed_submit(
            page,
            base + "/huvudman/schools/principal/add/",
            "Utfärda inloggningsuppgifter",
            "/huvudman/schools/principal/add/ (empty submit)",
            summary=False,
        )
    )
    page.goto(base + "/huvudman/schools/principal/add/")
    page.get_by_label("Namn").fill("Rolf Rektorsson")
    page.get_by_label("E-post").fill("rolf@demo-kommun.example")
    page.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Utfärda inloggningsuppgifter").click()
    expect(page.get_by_role("table", name=re.compile("Inloggningsmatris"))).to_be_visible()
    report.merge(check_page(page, label="/huvudman/schools/principal/add/ (card shown once)"))
    assert_clean("huvudman staff", report)


def test_national_admin_can_use_every_page(bare_page: Page, live_server, demo):
    page, base = bare_page, live_server.url
    admin = demo["national_admin"]
    admin_login(page, base, "admin", admin["username"], admin["password"])
    report = crawl(page, base, ["/admin/"], per_route=1, limit=160)
    # A material's change page links its file through the gate.
    material = Material.objects.order_by("pk").first()
    page.goto(f"{base}/admin/portal/material/{material.pk}/change/")
    gate = f"/bedomningsportalen/material/{material.slug}/fil/"
    expect(page.locator(f'a[href="{gate}"]')).to_have_count(1)
    assert Subject.objects.exists()
    assert_clean("national admin", report)
