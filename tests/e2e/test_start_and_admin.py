"""A person opens the start page, follows its links, and a national admin logs
in to /admin/ with password and authenticator code."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts.models import Role, User

pytestmark = pytest.mark.django_db(transaction=True)


def test_start_page_shows_both_halves_and_help(page: Page, live_server):
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Behörighetsportalen")
    expect(page.get_by_role("link", name="Bedömningsportalen").first).to_be_visible()
    expect(page.get_by_role("link", name="Hjälp").first).to_be_visible()
    # The skip link is the first thing a keyboard user reaches.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_focused()


def test_national_admin_logs_in_with_password_and_totp(page: Page, live_server):
    admin = User.objects.create_superuser("chefen", "chef@example.se", "ett-langt-losenord-123")
    assert admin.role == Role.NATIONAL_ADMIN
    device = TOTPDevice.objects.create(user=admin, name="app", confirmed=True)

    page.goto(live_server.url + "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.get_by_label("Användarnamn").fill("chefen")
    page.get_by_label("Lösenord").fill("ett-langt-losenord-123")
    page.get_by_label("Kod från din autentiseringsapp").fill("000000")
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator(".errornote")).to_be_visible()

    page.get_by_label("Lösenord").fill("ett-langt-losenord-123")
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    # The failed attempt started django-otp's throttle (1 s); wait it out.
    page.wait_for_timeout(1100)
    page.get_by_label("Kod från din autentiseringsapp").fill(f"{code:06d}")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("link", name="Huvudmän")).to_be_visible()
