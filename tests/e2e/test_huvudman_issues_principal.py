"""Huvudman staff log in to /huvudman/ with password and authenticator code,
create a school unit and issue a principal; the principal then logs in to
E-tjänster with the password and three cells read off the issue page."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from accounts.models import Role
from tests.conftest import make_user
from tests.e2e.conftest import AxeWatch

pytestmark = pytest.mark.django_db(transaction=True)


def staff_logs_in(page: Page, live_server, huvudman) -> None:
    staff = make_user("personal", Role.HUVUDMAN_STAFF, is_staff=True, huvudman=huvudman)
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    page.goto(live_server.url + "/huvudman/")
    expect(page).to_have_url(re.compile(r"/huvudman/login/"))
    page.get_by_label("Användarnamn").fill("personal")
    page.get_by_label("Lösenord").fill("personal-password-1234")
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_label("Kod från din autentiseringsapp").fill(f"{code:06d}")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("link", name="Rektorer")).to_be_visible()


def read_card(page: Page) -> dict[str, str]:
    table = page.get_by_role("table", name=re.compile("Inloggningsmatris"))
    columns = table.locator("thead th").all_inner_texts()
    cells = {}
    for row in table.locator("tbody tr").all():
        number = row.locator("th").inner_text().strip()
        for column, value in zip(columns, row.locator("td").all_inner_texts(), strict=True):
            cells[f"{column.strip()}{number}"] = value.strip()
    return cells


def test_staff_issue_a_principal_who_then_logs_in_with_the_card(
    page: Page, browser: Browser, live_server, huvudman
):
    staff_logs_in(page, live_server, huvudman)

    # A new school unit of their own huvudman.
    page.get_by_role("link", name="Skolenheter").first.click()
    page.get_by_role("link", name=re.compile("Lägg till skolenhet")).click()
    page.get_by_label("Skolenhetskod").fill("12345678")
    page.get_by_label("Namn").fill("Nya skolan")
    page.get_by_label("Grundskola", exact=True).check()
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("cell", name="12345678")).to_be_visible()

    # Issue a principal for it; the credentials are shown once.
    page.get_by_role("link", name="Rektorer").first.click()
    page.get_by_role("link", name=re.compile("Lägg till rektor")).click()
    page.get_by_label("Namn").fill("Rut Rektorsson")
    page.get_by_label("E-post").fill("rut@testkommun.se")
    page.get_by_label("Nya skolan (12345678)").check()
    page.get_by_role("button", name="Utfärda inloggningsuppgifter").click()
    expect(page.get_by_text("visas bara nu")).to_be_visible()
    username = page.locator("#issued-username").inner_text().strip()
    password = page.locator("#issued-password").inner_text().strip()
    cells = read_card(page)
    assert len(cells) == 80
    download = page.get_by_role("link", name="Ladda ner kortet som PDF")
    expect(download).to_have_attribute("href", re.compile(r"^data:application/pdf;base64,"))
    # The principal's own page offers the rest (regenerate, unlock, deactivate).
    page.get_by_role("link", name="Tillbaka till rektorn").click()
    expect(page.get_by_role("button", name="Utfärda nya inloggningsuppgifter")).to_be_visible()

    # The principal, in a browser of their own.
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    principal_page = context.new_page()
    watch = AxeWatch(principal_page)
    principal_page.on("load", lambda _page: watch.check())
    principal_page.goto(live_server.url + "/e-tjanster/logga-in/")
    principal_page.get_by_label("Användarnamn").fill(username)
    principal_page.get_by_label("Lösenord").fill(password)
    principal_page.get_by_role("button", name="Logga in").click()
    expect(principal_page).to_have_url(re.compile(r"/e-tjanster/logga-in/matris/"))
    inputs = principal_page.get_by_role("textbox")
    expect(inputs).to_have_count(3)
    for field in inputs.all():
        field.fill(cells[field.get_attribute("name")])
    principal_page.get_by_role("button", name="Logga in").click()
    expect(principal_page).to_have_url(re.compile(r"/e-tjanster/$"))
    expect(principal_page.get_by_text("Nya skolan")).to_be_visible()
    watch.check()
    context.close()
    assert not watch.violations, "Accessibility violations:\n" + "\n".join(watch.violations)
