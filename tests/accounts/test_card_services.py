"""Issuing, replacing and unlocking cards; regenerating passwords."""

import datetime

import time_machine
from django.contrib.auth import SESSION_KEY
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY, verify_token

from accounts.models import CardState, MatrixCardDevice
from accounts.services.cards import card_issue, card_unlock
from accounts.services.passwords import password_regenerate
from audit.context import AuditContext
from audit.models import AuditEvent
from tests.conftest import verify_session
from tests.fixtures.cards import answer_token


def cells_of(device) -> tuple[str, ...]:
    return tuple(device.generate_challenge().split(","))


def test_first_card_is_audited_as_issued(principal, huvudman_staff, grundskola):
    card = card_issue(user=principal, context=AuditContext(actor=huvudman_staff))
    event = AuditEvent.objects.get(action="card_issued")
    assert event.target == principal.username
    assert event.actor_username == huvudman_staff.username
    assert event.details["serial"] == card.serial
    assert event.huvudman_id == grundskola.huvudman_id
    assert card.issued_on == timezone.localdate()
    assert "cells" not in repr(card)


def test_new_card_replaces_the_old_at_once(principal, principal_card):
    old_cells = cells_of(principal_card.device)
    new = card_issue(user=principal, context=AuditContext.system())
    old_device = MatrixCardDevice.objects.get(pk=principal_card.device.pk)
    assert old_device.state == CardState.REPLACED
    assert not old_device.confirmed
    assert AuditEvent.objects.filter(action="card_regenerated").count() == 1
    # The old card's cells no longer open anything, also through its own device.
    assert (
        verify_token(principal, old_device.persistent_id, answer_token(principal_card, old_cells))
        is None
    )
    new_cells = cells_of(new.device)
    assert verify_token(principal, new.device.persistent_id, answer_token(new, new_cells))
    assert new.serial != principal_card.serial


def test_a_regenerated_card_rejects_the_old_cards_values(principal, principal_card):
    new = card_issue(user=principal, context=AuditContext.system())
    cells = cells_of(new.device)
    old_answer = answer_token(principal_card, cells)
    if old_answer == answer_token(new, cells):  # pragma: no cover - 1 in 2^30
        return
    assert verify_token(principal, new.device.persistent_id, old_answer) is None


def test_replacing_the_card_ends_sessions_verified_with_it(client, principal, principal_card):
    verify_session(client, principal, principal_card.device)
    assert client.get("/e-tjanster/").status_code == 200
    card_issue(user=principal, context=AuditContext.system())
    response = client.get("/e-tjanster/")
    assert response.status_code == 302
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_unlock_opens_a_locked_card_and_the_right_answer_works(
    principal, principal_card, huvudman_staff
):
    device = principal_card.device
    cells = cells_of(device)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(5):
            verify_token(principal, device.persistent_id, "ZZZZZZ")
            traveller.shift(datetime.timedelta(seconds=30))
        device.refresh_from_db()
        assert device.state == CardState.LOCKED
        card_unlock(user=principal, context=AuditContext(actor=huvudman_staff))
        device.refresh_from_db()
        assert device.state == CardState.ACTIVE
        assert device.throttling_failure_count == 0
        assert cells_of(device) == cells
        assert verify_token(principal, device.persistent_id, answer_token(principal_card, cells))
    assert AuditEvent.objects.filter(action="card_unlocked", actor_username="personal").exists()


def test_password_regeneration_ends_old_sessions(client, principal, huvudman_staff):
    client.force_login(principal)
    assert SESSION_KEY in client.session
    password = password_regenerate(user=principal, context=AuditContext(actor=huvudman_staff))
    principal.refresh_from_db()
    assert principal.check_password(password)
    assert not principal.check_password("rektor-password-1234")
    # The next request finds the session's auth hash stale and logs it out.
    client.get("/e-tjanster/")
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="password_regenerated", target="rektor").exists()


def test_national_admin_sees_cards_read_only_without_macs(client, national_admin, principal_card):
    verify_session(client, national_admin)
    listing = client.get("/admin/accounts/matrixcarddevice/")
    assert listing.status_code == 200
    assert principal_card.serial in listing.content.decode()
    page = client.get(f"/admin/accounts/matrixcarddevice/{principal_card.device.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert principal_card.device.cell_macs["A1"] not in content
    assert client.get("/admin/accounts/matrixcarddevice/add/").status_code == 403
