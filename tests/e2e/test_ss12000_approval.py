"""A principal approves the teachers the school's own system (SS 12000)
proposes, in Chromium: the proposals listed like the CSV preview, all
approved with one confirmation, and the new teacher on the teacher list
without anyone typing a name."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role, User
from accounts.services.cards import card_issue
from audit.context import AuditContext
from permissions.schoolyear import today
from provisioning.sources import source_save
from provisioning.sync import source_sync
from schools.models import Huvudman, PrincipalAssignment
from tests.conftest import make_school
from tests.e2e.test_school_admin import log_in

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "rektorns-langa-losenord-42"


def test_the_principal_approves_the_teachers_of_the_schools_system(
    page: Page, live_server, ss12000
):
    huvudman = Huvudman.objects.create(name="Testkommun", organisationsnummer="212000-0142")
    school = make_school("11111111", "Testskolan F–9", huvudman, ["grundskola"])
    principal = User.objects.create_user(
        username="rektore2e", password=PASSWORD, role=Role.PRINCIPAL, first_name="Rut"
    )
    PrincipalAssignment.objects.create(user=principal, school_unit=school)
    cells = card_issue(user=principal, context=AuditContext.system()).cells
    source, _seen = source_save(
        huvudman=huvudman, context=AuditContext.system(), base_url=ss12000.url, token="test-token"
    )
    source_sync(source=source, today=today())

    log_in(page, live_server.url, principal.username, PASSWORD, cells)
    page.get_by_role("link", name="Testskolan F–9").click()
    page.get_by_role(
        "link", name=re.compile("Från skolans system|From the school's system")
    ).click()
    proposals = page.get_by_role("table")
    expect(proposals).to_contain_text("Anna Andersson")
    expect(proposals).to_contain_text("GRGRMAT01 GRGRSVE01")
    page.get_by_role("button", name=re.compile("Godkänn alla|Approve all")).click()
    page.get_by_role("button", name=re.compile("^(Godkänn|Approve)$")).click()

    expect(page.get_by_text(re.compile("Inget att godkänna|Nothing to approve"))).to_be_visible()
    page.get_by_role("link", name=re.compile("^(Lärare|Teachers)$")).first.click()
    expect(page.get_by_role("table")).to_contain_text("Andersson, Anna")
