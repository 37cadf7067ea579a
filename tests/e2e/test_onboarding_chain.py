"""Onboarding from the top, in the browser and without a shell: a national
admin creates a huvudman staff member, who logs in with the one-time
password, enrols an authenticator app from the QR page (the code computed
from the key shown there) and issues a principal."""

import base64
import re

import pytest
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from accounts.models import Role, User
from schools.models import Huvudman
from tests.conftest import make_school
from tests.e2e.conftest import AxeWatch

pytestmark = pytest.mark.django_db(transaction=True)

STAFF_PASSWORD = "hugos-eget-langa-losenord"


def code_for(secret: str) -> str:
    """What an authenticator app shows for the key typed off the page."""
    key = base64.b32decode(secret.replace(" ", ""))
    return f"{TOTP(key, step=30, t0=0, digits=6, drift=0).token():06d}"


def test_national_admin_onboards_staff_who_enrols_and_issues_a_principal(
    page: Page, browser: Browser, live_server
):
    huvudman = Huvudman.objects.create(name="Nya kommunen", organisationsnummer="212000-0142")
    make_school("12345678", "Nya skolan", huvudman, ["grundskola"])
    admin = User.objects.create_superuser("chefen", "chef@example.se", "ett-langt-losenord-123")
    device = TOTPDevice.objects.create(user=admin, name="app", confirmed=True)

    # The national admin logs in and creates the staff member.
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Användarnamn").fill("chefen")
    page.get_by_label("Lösenord").fill("ett-langt-losenord-123")
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_label("Kod från din autentiseringsapp").fill(f"{code:06d}")
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("link", name="Användare", exact=True).first.click()
    page.get_by_role("link", name=re.compile("Lägg till användare")).click()
    page.get_by_label("Förnamn").fill("Hugo")
    page.get_by_label("Efternamn").fill("Huvudmansson")
    page.get_by_label("E-post").fill("hugo@nyakommunen.se")
    page.get_by_label("Roll").select_option(label="Huvudmannens personal")
    page.get_by_role("combobox", name=re.compile(r"^Huvudman")).select_option(label="Nya kommunen")
    page.get_by_role("button", name="Skapa kontot").click()
    expect(page.get_by_text("visas bara nu")).to_be_visible()
    username = page.locator("#issued-username").inner_text().strip()
    one_time = page.locator("#issued-password").inner_text().strip()
    staff = User.objects.get(username=username)
    assert (staff.role, staff.huvudman) == (Role.HUVUDMAN_STAFF, huvudman)

    # The staff member, in a browser of their own, logs in with the one-time password …
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    staff_page = context.new_page()
    watch = AxeWatch(staff_page)
    staff_page.on("load", lambda _page: watch.check())
    staff_page.goto(live_server.url + "/huvudman/")
    staff_page.get_by_label("Användarnamn").fill(username)
    staff_page.get_by_label("Lösenord").fill(one_time)
    staff_page.get_by_role("button", name="Logga in").click()
    # … and nothing but the enrolment page opens.
    expect(staff_page).to_have_url(re.compile(r"/huvudman/aktivera/$"))
    expect(
        staff_page.get_by_role("img", name="QR-kod med nyckeln till din autentiseringsapp")
    ).to_be_visible()
    staff_page.goto(live_server.url + "/huvudman/schools/principal/")
    expect(staff_page).to_have_url(re.compile(r"/huvudman/aktivera/$"))

    # The app reads the key; its code and an own password complete the enrolment.
    secret = staff_page.locator("#totp-secret").inner_text()
    staff_page.get_by_label("Kod från din autentiseringsapp").fill(code_for(secret))
    staff_page.get_by_label(re.compile(r"^Nytt lösenord:?$")).fill(STAFF_PASSWORD)
    staff_page.get_by_label("Nytt lösenord igen").fill(STAFF_PASSWORD)
    staff_page.get_by_role("button", name="Koppla appen och fortsätt").click()
    expect(staff_page.get_by_text("Din autentiseringsapp är kopplad till kontot.")).to_be_visible()

    # Now a principal is issued, as huvudman staff do.
    staff_page.get_by_role("link", name="Rektorer").first.click()
    staff_page.get_by_role("link", name=re.compile("Lägg till rektor")).click()
    staff_page.get_by_label("Namn").fill("Rut Rektorsson")
    staff_page.get_by_label("E-post").fill("rut@nyakommunen.se")
    staff_page.get_by_label("Nya skolan (12345678)").check()
    staff_page.get_by_role("button", name="Utfärda inloggningsuppgifter").click()
    expect(staff_page.get_by_text("visas bara nu")).to_be_visible()
    principal = User.objects.get(username=staff_page.locator("#issued-username").inner_text())
    assert principal.role == Role.PRINCIPAL
    assert list(principal.led_school_units.values_list("code", flat=True)) == ["12345678"]
    watch.check()
    context.close()
    assert not watch.violations, "Accessibility violations:\n" + "\n".join(watch.violations)
