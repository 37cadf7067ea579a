"""Teachers and a principal at the portal login, in Chromium: the gate and its refusals.

The server runs in this process (live_server), so time-machine moves its
clock too: every test runs on a school day, and one moves to 1 August.
"""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from permissions.models import MaterialLevel, Membership, Subject
from tests.conftest import END_OF_YEAR, make_user
from tests.e2e.conftest import download_bytes, log_in_to_portal
from tests.fixtures.material import PDF_BYTES, STOCKHOLM, make_material

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_teacher_logs_in_from_the_refusal_and_downloads_a_granted_item(
    page: Page, live_server, clock, teacher
):
    make_material("matte-prov", title="Nationellt prov i matematik")

    page.goto(live_server.url + "/bedomningsportalen/material/matte-prov/")
    expect(
        page.get_by_role("heading", name="Det här materialet öppnas inte för dig")
    ).to_be_visible()
    page.get_by_role("link", name="Logga in som lärare").click()
    expect(page).to_have_url(re.compile(r"/bedomningsportalen/logga-in/\?next="))
    log_in_to_portal(page, "larare", "larare-password-1234")

    # Back on the item it came from, now open.
    expect(page).to_have_url(re.compile(r"/bedomningsportalen/material/matte-prov/$"))
    expect(page.get_by_text("Testskolan F–9")).to_be_visible()
    assert download_bytes(page, "Ladda ner Nationellt prov i matematik (PDF)") == PDF_BYTES


def test_a_gymnasium_teacher_is_refused_grundskola_material_and_after_31_july_as_expired(
    page: Page, live_server, clock, gymnasium, principal
):
    teacher = make_user("gylarare", Role.TEACHER)
    membership = Membership.objects.create(
        user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR
    )
    membership.subjects.add(*Subject.objects.filter(code__in=["GRGRMAT01", "MAT"]))
    make_material("grund-prov", title="Prov för grundskolan")
    make_material("gy-prov", subject_code="MAT", level=MaterialLevel.GYMNASIAL, title="Prov Ma1c")

    page.goto(live_server.url + "/bedomningsportalen/logga-in/")
    log_in_to_portal(page, "gylarare", "gylarare-password-1234")
    page.goto(live_server.url + "/bedomningsportalen/")
    gy_item = page.get_by_role("listitem").filter(has_text="Prov Ma1c")
    expect(gy_item.get_by_text("Öppnas för dig", exact=True)).to_be_visible()
    grund_item = page.get_by_role("listitem").filter(has_text="Prov för grundskolan")
    expect(grund_item.get_by_text("Öppnas inte för dig")).to_be_visible()
    grund_item.get_by_role("link", name="Prov för grundskolan").click()
    expect(
        page.get_by_text(
            "Testgymnasiet är registrerad med skolformen gymnasieskola, "
            "som inte når material på grundskolenivå"
        )
    ).to_be_visible()

    # The school year ends; on 1 August the same teacher can still log in.
    clock.move_to(datetime.datetime(2027, 8, 1, 9, 0, tzinfo=STOCKHOLM))
    page.goto(live_server.url + "/bedomningsportalen/logga-in/")
    log_in_to_portal(page, "gylarare", "gylarare-password-1234")
    page.goto(live_server.url + "/bedomningsportalen/material/gy-prov/")
    expect(page.get_by_text("Din behörighet gäller inte längre")).to_be_visible()
    expect(page.get_by_text("Testgymnasiet: gällde till och med 31 juli 2027")).to_be_visible()
    expect(page.locator(".refusal").get_by_text("Rektor Testsson")).to_be_visible()

    page.goto(live_server.url + "/bedomningsportalen/konto/")
    expect(page.get_by_text("Har gått ut")).to_be_visible()


def test_principal_credentials_at_the_portal_login_get_the_explanation(
    page: Page, live_server, clock, principal
):
    page.goto(live_server.url + "/bedomningsportalen/logga-in/")
    log_in_to_portal(page, "rektor", "rektor-password-1234")
    expect(
        page.get_by_role("main").get_by_role("link", name=re.compile("E-tjänster"))
    ).to_be_visible()
    expect(page.get_by_text("Fel användarnamn eller lösenord")).to_have_count(0)
