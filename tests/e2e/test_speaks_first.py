# ruff: noqa: F811 (the fixtures are those of test_school_admin)
"""Issue 22 in Chromium, one journey per item: a teacher who forgot the
password, a principal who hears of a teacher's answer and switches a notice
off, huvudman staff reading and exporting their reports, and a site notice
on the pages that never showed one. (The undo of a removal is in
test_confirmations.)"""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Role
from audit.context import AuditContext
from core.models import SiteNotice
from core.outbox import outbox_send_due
from notifications.models import NotificationKind, NotificationSetting
from permissions.schoolyear import today
from permissions.services.memberships import membership_register
from schools.models import PrincipalAssignment
from tests.conftest import make_school, make_user
from tests.e2e.conftest import log_in_to_portal
from tests.e2e.test_huvudman_issues_principal import staff_logs_in
from tests.e2e.test_school_admin import PASSWORD, log_in, principal_with_card, school  # noqa: F401
from tests.fixtures.staff import make_teachers

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "mitt-eget-nya-losenord-7"


def code_in(message) -> str:
    return re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", message.body).group(1)


def test_a_teacher_who_forgot_the_password_chooses_a_new_one(page: Page, live_server, school):
    (membership,) = make_teachers(school, 1, prefix="g")
    teacher = membership.user
    base = live_server.url
    page.goto(base + "/bedomningsportalen/logga-in/")
    page.get_by_role("link", name="English").click()
    page.get_by_role("link", name="Forgot your password?", exact=True).click()
    page.get_by_label("Username or e-mail address").fill(teacher.email.upper())
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_text("If that is the username or e-mail address")).to_be_visible()

    # The mail worker sends the code to the account's own address.
    outbox_send_due()
    [message] = mail.outbox
    assert message.to == [teacher.email]
    page.get_by_label("Username").fill(teacher.username)
    page.get_by_label("Code from the e-mail").fill(code_in(message))
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your new password is set")).to_be_visible()

    # The login it leads to (Swedish, the site's default) takes the new password.
    log_in_to_portal(page, teacher.username, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/bedomningsportalen/$"))


def test_a_principal_hears_of_a_teachers_answer_and_switches_a_notice_off(
    page: Page, live_server, principal_with_card, school
):
    principal, cells = principal_with_card
    second = make_teachers(school, 1, prefix="x")[0].user
    elsewhere = make_school("87654321", "Grannskolan", school.huvudman, ["grundskola"])
    membership_register(
        school_unit=elsewhere,
        context=AuditContext.system(),
        first_name="A",
        last_name="B",
        email=second.email,
        subjects=[],
        today=today(),
    )
    PrincipalAssignment.objects.create(user=principal, school_unit=elsewhere)
    outbox_send_due()
    code = code_in(mail.outbox[-1])
    mail.outbox.clear()

    # The teacher confirms with the code in the browser; the principal is told.
    page.goto(f"{live_server.url}/en/bedomningsportalen/kod/?anvandarnamn={second.username}")
    page.get_by_label("Code from the e-mail").fill(code)
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Confirm and set the password").click()
    expect(page.get_by_text("You are now a teacher at Grannskolan too")).to_be_visible()
    outbox_send_due()
    [told] = mail.outbox
    assert told.to == [principal.email]
    assert "Grannskolan" in told.subject

    # The principal switches the weekly summary off on "My account".
    log_in(page, live_server.url, principal.username, PASSWORD, cells)
    page.goto(live_server.url + "/en/e-tjanster/mitt-konto/")
    page.get_by_label("Weekly summary of changes at the school").uncheck()
    page.get_by_role("button", name="Save notice settings").click()
    expect(page.get_by_text("Your notification settings have been saved")).to_be_visible()
    assert NotificationSetting.objects.filter(
        user=principal, kind=NotificationKind.WEEKLY_DIGEST, enabled=False
    ).exists()


def test_huvudman_staff_read_and_export_their_reports(page: Page, live_server, school):
    boss = make_user("nyrektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=boss, school_unit=school)
    staff_logs_in(page, live_server, school.huvudman)
    page.goto(live_server.url + "/en/huvudman/")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("cell", name="Nyrektor Testsson")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Export principals who never logged in as CSV").click()
    with open(info.value.path(), encoding="utf-8-sig") as handle:
        assert "nyrektor" in handle.read()
    # Their own notices, in English too.
    page.goto(live_server.url + "/en/huvudman/aviseringar/")
    page.get_by_label("A school unit without a principal").uncheck()
    page.get_by_role("button", name="Save notice settings").click()
    expect(page.get_by_text("Your notification settings have been saved")).to_be_visible()


def test_a_site_notice_shows_on_the_admin_sites_and_error_pages(page: Page, live_server):
    now = timezone.now()
    SiteNotice.objects.create(
        title="Planerat avbrott",
        title_en="Planned downtime",
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=1),
    )
    for path, text in [
        ("/huvudman/login/", "Planerat avbrott"),
        ("/admin/login/", "Planerat avbrott"),
        ("/finns-inte/", "Planerat avbrott"),
        ("/en/finns-inte/", "Planned downtime"),
        ("/en/huvudman/login/", "Planned downtime"),
    ]:
        page.goto(live_server.url + path)
        expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()
