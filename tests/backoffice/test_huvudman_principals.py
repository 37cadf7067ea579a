"""Huvudman staff issue principals in /huvudman/ and manage their credentials:
what is shown once works, what is replaced stops working at once."""

import base64
import re

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from accounts.models import Role, Session, User
from audit.context import AuditContext
from audit.models import AuditEvent
from schools.models import PrincipalAssignment
from tests.conftest import verify_session
from tests.fixtures.cards import answer, lock_card, page_cells
from tests.fixtures.pdfs import pdf_text

pytestmark = pytest.mark.django_db


def principal_url(user, suffix="change") -> str:
    return f"/huvudman/schools/principal/{user.pk}/{suffix}/"


def shown(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]+)<', page)
    assert match, f"#{element_id} not on the page"
    return match.group(1)


def issue(client, **data):
    return client.post("/huvudman/schools/principal/add/", data)


def test_issued_principal_logs_in_with_what_the_page_showed_once(
    staff_client, grundskola, gymnasium
):
    response = issue(
        staff_client,
        name="Rut Rektorsson",
        email="rut@testkommun.se",
        school_units=[grundskola.pk, gymnasium.pk],
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    username, password = shown(page, "issued-username"), shown(page, "issued-password")
    principal = User.objects.get(username=username)
    assert principal.role == Role.PRINCIPAL
    assert (principal.first_name, principal.last_name) == ("Rut", "Rektorsson")
    assert set(principal.led_school_units.all()) == {grundskola, gymnasium}
    # SECURITY: only the hash is stored.
    assert password not in principal.password
    assert authenticate(username=username, password=password) == principal
    cells = page_cells(page)
    assert len(cells) == 80
    assert answer(principal, cells)
    assert AuditEvent.objects.filter(action="principal_issued", target=username).count() == 1
    assert AuditEvent.objects.filter(action="principal_linked", target=username).count() == 2


def test_issue_page_offers_the_card_pdf_without_storing_it(staff_client, grundskola):
    page = issue(
        staff_client, name="Rut Rektorsson", email="rut@testkommun.se", school_units=[grundskola.pk]
    ).content.decode()
    pdfs = {
        name: pdf_text(base64.b64decode(data))[1]
        for data, name in re.findall(
            r'href="data:application/pdf;base64,([^"]+)" download="([^"]+)"', page
        )
    }
    assert all(name.endswith(".pdf") for name in pdfs)
    # SECURITY: two factors, two papers: the password is on its own slip, never on the card.
    password = shown(page, "issued-password")
    (slip,) = [text for name, text in pdfs.items() if name.startswith("losenord-")]
    (card,) = [text for name, text in pdfs.items() if not name.startswith("losenord-")]
    assert password in slip
    assert password not in card


def test_principal_cannot_be_issued_for_another_huvudmans_unit(staff_client, other_school):
    before = User.objects.count()
    response = issue(
        staff_client,
        name="Rut Rektorsson",
        email="rut@testkommun.se",
        school_units=[other_school.pk],
    )
    assert response.status_code == 200
    assert "giltigt alternativ" in response.content.decode()
    assert User.objects.count() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "email": "rut@testkommun.se"}, "måste fyllas i"),
        ({"name": "   ", "email": "rut@testkommun.se"}, "måste fyllas i"),
        ({"name": "Rut", "email": "inte-en-adress"}, "giltig e-postadress"),
        ({"name": "Rut", "email": "rut@testkommun.se", "school_units": []}, "minst en skolenhet"),
    ],
)
def test_bad_issue_input_gives_a_swedish_message_and_saves_nothing(
    staff_client, grundskola, data, message
):
    data.setdefault("school_units", [grundskola.pk])
    before = User.objects.count()
    response = issue(staff_client, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == before


def test_a_second_principal_account_for_the_same_address_is_refused(
    staff_client, issued, grundskola, gymnasium, other_school, other_huvudman
):
    """A reloaded result page or a second "Save" sent the issue form again and
    made a second account with its own card; so did the address in other
    letters. The page names the account the huvudman already has."""
    before = User.objects.count()
    for email in ("rut@testkommun.se", "RUT@Testkommun.SE"):
        response = issue(
            staff_client, name="Rut Rektorsson", email=email, school_units=[gymnasium.pk]
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Rut Rektorsson har redan ett rektorskonto med den här e-postadressen" in html
        assert issued.user.username in html
    assert User.objects.count() == before
    # Deactivated, the account is still the huvudman's: reactivate it instead.
    User.objects.filter(pk=issued.user.pk).update(is_active=False)
    response = issue(
        staff_client, name="Rut", email="rut@testkommun.se", school_units=[gymnasium.pk]
    )
    assert "har redan ett rektorskonto" in response.content.decode()
    # Another huvudman may issue the same person an account of its own.
    from schools.services import principal_issue

    other = principal_issue(
        context=AuditContext.system(),
        name="Rut Rektorsson",
        email="rut@testkommun.se",
        school_units=[other_school],
    )
    assert other.user.pk != issued.user.pk


def test_regenerating_both_keeps_the_username_and_kills_old_password_cells_and_sessions(
    staff_client, issued
):
    principal = issued.user
    principal_session = verify_session(Client(), principal)
    assert Session.objects.count() == 2

    response = staff_client.post(
        principal_url(principal, "regenerate"), {"password": "on", "card": "on", "confirm": "yes"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert shown(page, "issued-username") == principal.username
    new_password = shown(page, "issued-password")
    new_cells = page_cells(page)

    assert authenticate(username=principal.username, password=issued.password) is None
    assert authenticate(username=principal.username, password=new_password) == principal
    assert answer(principal, new_cells)
    assert not answer(principal, issued.card.cells)
    # The principal's session ended; the staff member's did not.
    assert principal_session.get("/e-tjanster/").status_code == 302
    assert staff_client.get("/huvudman/").status_code == 200


def test_regenerating_only_the_card_keeps_the_password(staff_client, issued):
    principal = issued.user
    principal_session = verify_session(Client(), principal)
    page = staff_client.post(
        principal_url(principal, "regenerate"), {"card": "on", "confirm": "yes"}
    ).content.decode()
    assert 'id="issued-password"' not in page
    assert authenticate(username=principal.username, password=issued.password) == principal
    assert answer(principal, page_cells(page))
    assert not answer(principal, issued.card.cells)
    assert principal_session.get("/e-tjanster/").status_code == 302


def test_regenerating_only_the_password_keeps_the_card(staff_client, issued):
    principal = issued.user
    page = staff_client.post(
        principal_url(principal, "regenerate"), {"password": "on", "confirm": "yes"}
    ).content.decode()
    assert "matrix-card" not in page
    new_password = shown(page, "issued-password")
    assert authenticate(username=principal.username, password=new_password) == principal
    assert answer(principal, issued.card.cells)


def test_regenerating_nothing_is_refused_with_a_message(staff_client, issued):
    response = staff_client.post(principal_url(issued.user, "regenerate"), {}, follow=True)
    assert "nytt lösenord, ett nytt kort eller båda" in response.content.decode()
    assert authenticate(username=issued.user.username, password=issued.password)


def test_card_locks_after_five_wrong_answers_and_staff_unlock_it(staff_client, issued):
    principal = issued.user
    lock_card(principal)
    assert not answer(principal, issued.card.cells)
    page = staff_client.get(principal_url(principal)).content.decode()
    assert "Häv spärren" in page

    response = staff_client.post(principal_url(principal, "unlock"))
    assert response.status_code == 302
    assert answer(principal, issued.card.cells)
    assert AuditEvent.objects.filter(action="card_unlocked", target=principal.username).exists()


def test_deactivated_principal_cannot_log_in_until_reactivated(staff_client, issued):
    principal = issued.user
    principal_session = verify_session(Client(), principal)
    assert (
        staff_client.post(principal_url(principal, "deactivate"), {"confirm": "yes"}).status_code
        == 302
    )
    assert authenticate(username=principal.username, password=issued.password) is None
    assert principal_session.get("/e-tjanster/").status_code == 302
    assert AuditEvent.objects.filter(action="account_deactivated").count() == 1

    assert staff_client.post(principal_url(principal, "reactivate")).status_code == 302
    assert authenticate(username=principal.username, password=issued.password) == principal
    # The session from before the deactivation stays ended.
    assert principal_session.get("/e-tjanster/").status_code == 302
    assert AuditEvent.objects.filter(action="account_reactivated").count() == 1


def test_staff_link_and_unlink_units_but_never_the_last_one(staff_client, issued, gymnasium):
    principal = issued.user
    staff_client.post(principal_url(principal, "link"), {"school_unit": gymnasium.pk})
    assert PrincipalAssignment.objects.filter(user=principal, school_unit=gymnasium).exists()
    assert AuditEvent.objects.filter(action="principal_linked", school_unit=gymnasium).exists()

    staff_client.post(
        principal_url(principal, "unlink"), {"school_unit": gymnasium.pk, "confirm": "yes"}
    )
    assert not PrincipalAssignment.objects.filter(user=principal, school_unit=gymnasium).exists()
    assert AuditEvent.objects.filter(action="principal_unlinked", school_unit=gymnasium).exists()

    last = principal.led_school_units.get()
    response = staff_client.post(
        principal_url(principal, "unlink"), {"school_unit": last.pk, "confirm": "yes"}, follow=True
    )
    assert "minst en skolenhet" in response.content.decode()
    assert principal.led_school_units.get() == last


def test_link_without_a_chosen_unit_says_so_and_changes_nothing(staff_client, issued, other_school):
    principal = issued.user
    units = list(principal.led_school_units.all())
    events = AuditEvent.objects.count()
    response = staff_client.post(principal_url(principal, "link"), {"school_unit": ""}, follow=True)
    assert response.redirect_chain == [(principal_url(principal), 302)]
    assert "Välj skolenheten som rektorn ska kopplas till." in response.content.decode()
    assert list(principal.led_school_units.all()) == units
    assert AuditEvent.objects.count() == events
    # Another huvudman's unit, posted by id, is still not found.
    response = staff_client.post(principal_url(principal, "link"), {"school_unit": other_school.pk})
    assert response.status_code == 404


def test_principal_page_shows_own_units_and_offers_the_others(
    staff_client, issued, gymnasium, other_school
):
    page = staff_client.get(principal_url(issued.user)).content.decode()
    assert "Testskolan F–9" in page
    assert f'value="{gymnasium.pk}"' in page
    assert other_school.name not in page


def test_unlocking_a_card_that_is_not_locked_changes_nothing(staff_client, issued):
    response = staff_client.post(principal_url(issued.user, "unlock"), follow=True)
    assert "inte spärrad" in response.content.decode()
    assert not AuditEvent.objects.filter(action="card_unlocked").exists()


def test_a_principal_without_a_card_shows_as_such(staff_client, principal):
    page = staff_client.get(principal_url(principal)).content.decode()
    assert "Inget kort" in page
    response = staff_client.post(principal_url(principal, "unlock"))
    assert response.status_code == 302


def test_principal_actions_need_the_csrf_token(huvudman_staff, issued):
    client = verify_session(Client(enforce_csrf_checks=True), huvudman_staff)
    assert client.post(principal_url(issued.user, "deactivate")).status_code == 403
    issued.user.refresh_from_db()
    assert issued.user.is_active
