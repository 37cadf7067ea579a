"""People use Bedömningsportalen in Chromium: open material, the gate, refusals.

The server runs in this process (live_server), so time-machine moves its
clock too: every test runs on a school day.
"""

import pytest
from playwright.sync_api import Page, expect

from portal.models import SupportTicket
from tests.e2e.conftest import download_bytes
from tests.fixtures.material import PDF_BYTES, make_material

pytestmark = pytest.mark.django_db(transaction=True)


def test_anyone_opens_an_open_item_and_its_file(page: Page, live_server, clock):
    make_material("oppet-stod", protected=False, title="Bedömningsstöd i matematik")
    make_material("skyddat-prov", title="Nationellt prov i matematik")

    page.goto(live_server.url + "/bedomningsportalen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedömningsportalen")
    page.get_by_label("Sök på titel").fill("stöd")
    page.get_by_role("button", name="Visa").click()
    expect(page.get_by_role("link", name="Nationellt prov i matematik")).to_have_count(0)
    page.get_by_role("link", name="Bedömningsstöd i matematik").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Bedömningsstöd i matematik")
    assert download_bytes(page, "Ladda ner Bedömningsstöd i matematik (PDF)") == PDF_BYTES


def test_a_visitor_reads_help_and_writes_to_support(page: Page, live_server, clock):
    page.goto(live_server.url + "/hjalp/")
    expect(page.get_by_role("heading", name="Vilket material når min skola?")).to_be_visible()
    page.get_by_role("link", name="Skriv till supporten").click()
    page.get_by_label("Ditt namn").fill("Anna Andersson")
    page.get_by_label("Din e-postadress").fill("anna@example.se")
    page.get_by_label("Ämne").fill("Fråga om prov")
    page.get_by_label("Din fråga").fill("Var hittar jag förra årets prov?")
    page.get_by_role("button", name="Skicka").click()
    expect(page.get_by_text("Tack! Ditt meddelande har skickats till supporten.")).to_be_visible()
    assert SupportTicket.objects.get().subject == "Fråga om prov"


def test_a_principal_asks_for_the_huvudman_contact(page: Page, live_server, clock, principal):
    page.goto(live_server.url + "/kontakt/huvudman/")
    page.get_by_label("Skolenhetskod").fill("1111")
    page.get_by_label("Din e-postadress").fill("rektor@example.se")
    page.get_by_role("button", name="Skicka kontaktuppgifterna till mig").click()
    expect(page.locator("#id_skolenhetskod_error")).to_contain_text(
        "En skolenhetskod består av exakt åtta siffror"
    )
    page.get_by_label("Skolenhetskod").fill("11111111")
    page.get_by_role("button", name="Skicka kontaktuppgifterna till mig").click()
    expect(page.get_by_text("Om e-postadressen tillhör en rektor")).to_be_visible()
