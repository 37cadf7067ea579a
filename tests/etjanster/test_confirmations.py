"""Irreversible acts are deliberate: a confirmation naming person, school and
consequence; a fresh card cell (or TOTP code) when the last proof is over 15
minutes old; and a removed membership can be restored for 30 days."""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import CardState, User
from accounts.services.cards import card_issue, current_card
from audit.context import AuditContext
from audit.models import AuditEvent
from permissions.models import Membership
from tests.conftest import END_OF_YEAR, verify_session
from tests.fixtures.staff import make_teachers

pytestmark = pytest.mark.django_db


def url(school, path: str) -> str:
    return f"/e-tjanster/skolor/{school.code}/{path}"


@pytest.fixture
def card_of(principal):
    return card_issue(user=principal, context=AuditContext.system())


@pytest.fixture
def later():
    """Sixteen minutes after the login: the last proof of a factor is stale."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def asked_cell(page: str) -> str:
    match = re.search(r'<label for="id_reauth_cell">Ruta ([A-H]\d+)</label>', page)
    assert match, "no card cell asked"
    return match.group(1)


def test_removing_the_last_membership_names_the_consequence(principal_client, grundskola, teacher):
    page = principal_client.get("/en" + url(grundskola, "larare/larare/ta-bort/")).content.decode()
    assert "Larare Testsson (larare)" in page
    assert "Testskolan F–9 (11111111)" in page
    assert "last school, so the account is closed at once" in page
    assert "id_reauth_cell" not in page  # logged in just now: no cell asked


def test_after_fifteen_minutes_the_last_removal_asks_for_a_card_cell(
    client, principal, card_of, grundskola, teacher, later
):
    principal_client = verify_session(client, principal, card_of.device)
    later.shift(datetime.timedelta(minutes=16))
    target = url(grundskola, "larare/larare/ta-bort/")
    cell = asked_cell(principal_client.get(target).content.decode())
    # Reloading shows the same pinned cell.
    assert asked_cell(principal_client.get(target).content.decode()) == cell
    # The button pressed with the cell empty: said so, and no try is spent.
    events = AuditEvent.objects.count()
    empty = principal_client.post(target, {"confirm": "yes", "reauth_cell": "  "})
    assert empty.status_code == 400
    assert "Fyll i rutan. Inget räknades." in empty.content.decode()
    assert asked_cell(empty.content.decode()) == cell
    assert current_card(user=principal).throttling_failure_count == 0
    assert AuditEvent.objects.count() == events
    wrong = principal_client.post(target, {"confirm": "yes", "reauth_cell": "??"})
    assert wrong.status_code == 400
    assert "stämde inte med ditt kort" in wrong.content.decode()
    assert User.objects.get(pk=teacher.pk).is_active
    later.shift(datetime.timedelta(seconds=2))  # past the card's delay after one wrong answer
    done = principal_client.post(target, {"confirm": "yes", "reauth_cell": card_of.cells[cell]})
    assert done.status_code == 302
    assert not User.objects.get(pk=teacher.pk).is_active
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "reauthenticated" in actions and "reauthentication_failed" in actions
    # The proof is fresh again: the next grave act asks nothing.
    other = make_teachers(grundskola, 1, prefix="x")[0]
    page = principal_client.get(url(grundskola, f"larare/{other.user.username}/losenord/"))
    assert "id_reauth_cell" not in page.content.decode()


def test_removing_a_non_last_membership_asks_no_cell_even_when_stale(
    client, principal, card_of, grundskola, other_school, teacher, later
):
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    principal_client = verify_session(client, principal, card_of.device)
    later.shift(datetime.timedelta(minutes=20))
    page = principal_client.get(url(grundskola, "larare/larare/ta-bort/")).content.decode()
    assert "id_reauth_cell" not in page
    assert "återställa" in page
    principal_client.post(url(grundskola, "larare/larare/ta-bort/"), {"confirm": "yes"})
    assert not teacher.memberships.filter(school_unit=grundskola, removed_at__isnull=True).exists()


def test_five_wrong_cells_lock_the_card_and_end_the_session(
    client, principal, card_of, grundskola, teacher, later, settings
):
    settings.OTP_MATRIX_THROTTLE_FACTOR = 0
    principal_client = verify_session(client, principal, card_of.device)
    later.shift(datetime.timedelta(minutes=16))
    target = url(grundskola, "larare/larare/losenord/")
    for _ in range(5):
        principal_client.get(target)
        response = principal_client.post(target, {"confirm": "yes", "reauth_cell": "??"})
    assert response.status_code == 302
    assert response["Location"] == "/e-tjanster/logga-in/"
    assert current_card(user=principal).state == CardState.LOCKED
    assert "_auth_user_id" not in principal_client.session
    assert User.objects.get(pk=teacher.pk).check_password("larare-password-1234")


def test_regenerating_a_principal_after_fifteen_minutes_asks_for_a_totp_code(
    client, huvudman_staff, principal, later
):
    device = TOTPDevice.objects.create(user=huvudman_staff, name="app", confirmed=True)
    staff_client = verify_session(client, huvudman_staff, device)
    later.shift(datetime.timedelta(minutes=16))
    target = f"/huvudman/schools/principal/{principal.pk}/regenerate/"
    page = staff_client.post(target, {"password": "on"}).content.decode()
    assert 'id="id_reauth_code"' in page
    refused = staff_client.post(target, {"password": "on", "confirm": "yes", "reauth_code": "1"})
    assert refused.status_code == 400
    assert User.objects.get(pk=principal.pk).check_password("rektor-password-1234")
    later.shift(datetime.timedelta(seconds=3))  # past the TOTP throttle of one failure
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    done = staff_client.post(target, {"password": "on", "confirm": "yes", "reauth_code": code})
    assert done.status_code == 200
    assert not User.objects.get(pk=principal.pk).check_password("rektor-password-1234")
    proved = AuditEvent.objects.get(action="reauthenticated")
    assert proved.huvudman_id == huvudman_staff.huvudman_id  # in the huvudman's own log


def test_bulk_removal_lists_everyone_and_asks_for_the_card_when_stale(
    client, principal, card_of, grundskola, later
):
    old = make_teachers(grundskola, 3, valid_until=datetime.date(2020, 7, 31), prefix="o")
    principal_client = verify_session(client, principal, card_of.device)
    later.shift(datetime.timedelta(minutes=16))
    base = url(grundskola, "nytt-lasar/")
    page = principal_client.post(base, {"keep": [old[0].pk], "remove_unkept": "yes"})
    html = page.content.decode()
    assert page.status_code == 200
    for membership in old[1:]:
        assert membership.user.username in html
    assert old[0].user.username not in html.split("<table")[1]
    cell = asked_cell(html)
    assert Membership.objects.filter(pk__in=[m.pk for m in old]).count() == 3
    done = principal_client.post(
        base,
        {
            "keep": [old[0].pk],
            "remove_unkept": "yes",
            "confirm": "yes",
            "reauth_cell": card_of.cells[cell],
        },
    )
    assert done.status_code == 200
    assert list(Membership.objects.live().filter(pk__in=[m.pk for m in old])) == [old[0]]


def test_bulk_removal_says_what_the_removal_will_do_when_the_other_school_only_waits(
    principal_client, principal, grundskola, other_school
):
    """A registration still waiting for the teacher's confirmation keeps no
    account alive (`membership_remove`): the confirmation must say the
    account goes (closed, deleted after 30 days), and it does; a confirmed
    other school keeps it."""
    waiting, kept = make_teachers(grundskola, 2, valid_until=datetime.date(2020, 7, 31), prefix="w")
    Membership.objects.create(
        user=waiting.user, school_unit=other_school, valid_until=END_OF_YEAR, confirmed_at=None
    )
    Membership.objects.create(user=kept.user, school_unit=other_school, valid_until=END_OF_YEAR)
    base = "/en" + url(grundskola, "nytt-lasar/")
    html = principal_client.post(base, {"remove_unkept": "yes"}).content.decode()
    rows = {
        username: html.split(username)[1].split("</tr>")[0]
        for username in (waiting.user.username, kept.user.username)
    }
    assert "Last school: the account is deleted after 30 days" in rows[waiting.user.username]
    assert "the account stays for other schools" in rows[kept.user.username]
    assert "1 of them has no other school" in html
    principal_client.post(base, {"remove_unkept": "yes", "confirm": "yes"})
    assert User.objects.get(pk=waiting.user.pk).removed_at is not None
    assert User.objects.get(pk=kept.user.pk).is_active


def test_bulk_removal_of_teachers_who_all_keep_their_accounts_says_so(
    principal_client, grundskola, other_school
):
    old = make_teachers(grundskola, 2, valid_until=datetime.date(2020, 7, 31), prefix="k")
    for membership in old:
        Membership.objects.create(
            user=membership.user, school_unit=other_school, valid_until=END_OF_YEAR
        )
    html = principal_client.post(
        url(grundskola, "nytt-lasar/"), {"remove_unkept": "yes"}
    ).content.decode()
    assert "ingen annan skola" not in html
    assert "kan återställas här inom 30 dagar" in html


def test_a_removed_membership_is_restored_with_its_subjects_within_thirty_days(
    principal_client, grundskola, other_school, teacher
):
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    membership = teacher.memberships.get(school_unit=grundskola)
    principal_client.post(url(grundskola, "larare/larare/ta-bort/"), {"confirm": "yes"})
    listing = principal_client.get(url(grundskola, "larare-borttagna/")).content.decode()
    assert "Larare Testsson" in listing
    response = principal_client.post(
        url(grundskola, f"larare-borttagna/{membership.pk}/aterstall/")
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.removed_at is None
    assert set(membership.subjects.values_list("code", flat=True)) == {"GRGRMAT01", "GRGRSVE01"}
    assert AuditEvent.objects.filter(action="membership_restored", school_unit=grundskola).exists()


def test_restoring_after_thirty_days_is_refused(
    principal_client, grundskola, other_school, teacher
):
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    membership = teacher.memberships.get(school_unit=grundskola)
    Membership.objects.filter(pk=membership.pk).update(
        removed_at=timezone.now() - datetime.timedelta(days=31)
    )
    listing = principal_client.get(url(grundskola, "larare-borttagna/")).content.decode()
    assert "Larare Testsson" not in listing
    response = principal_client.post(
        url(grundskola, f"larare-borttagna/{membership.pk}/aterstall/"), follow=True
    )
    assert "mer än 30 dagar sedan" in response.content.decode()
    membership.refresh_from_db()
    assert membership.removed_at is not None


def test_restore_is_for_the_principal_and_its_own_school_only(
    test_admin_client, principal_client, grundskola, other_school, teacher
):
    membership = Membership.objects.create(
        user=teacher,
        school_unit=other_school,
        valid_until=END_OF_YEAR,
        removed_at=timezone.now(),
    )
    assert test_admin_client.get(url(grundskola, "larare-borttagna/")).status_code == 403
    assert (
        principal_client.post(
            url(grundskola, f"larare-borttagna/{membership.pk}/aterstall/")
        ).status_code
        == 404
    )
    assert (
        principal_client.post(
            url(other_school, f"larare-borttagna/{membership.pk}/aterstall/")
        ).status_code
        == 404
    )
    membership.refresh_from_db()
    assert membership.removed_at is not None
