"""The matrix card as a django-otp device: cells, pinned challenge, throttle, lock."""

import datetime
import hashlib
import hmac
import re
import threading
import time

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connection
from django.test import TestCase
from django.utils import timezone
from django_otp import verify_token
from django_otp.test_utils import ThrottlingTestMixin

from accounts.models import (
    CARD_ALPHABET,
    CARD_CELLS,
    DAILY_CHALLENGE_CAP,
    CardState,
    MatrixCardDevice,
    Role,
    User,
    cell_mac,
)
from accounts.services.cards import card_issue
from audit.context import AuditContext
from core.refusals import RefusalCode, Refused
from tests.fixtures.cards import answer_token


def pinned(device) -> tuple[str, ...]:
    return tuple(device.generate_challenge().split(","))


class MatrixCardThrottlingTest(ThrottlingTestMixin, TestCase):
    """django-otp's own throttling tests, run against our device."""

    def setUp(self):
        user = User.objects.create_user("kortholder", password="x" * 16, role=Role.PRINCIPAL)
        self.card = card_issue(user=user, context=AuditContext.system())
        self.device = self.card.device
        self.cells = pinned(self.device)

    def valid_token(self):
        return answer_token(self.card, self.cells)

    def invalid_token(self):
        token = self.valid_token()
        # Change one character of the last cell to another letter of the alphabet.
        wrong = CARD_ALPHABET[(CARD_ALPHABET.index(token[-1]) + 1) % len(CARD_ALPHABET)]
        return token[:-1] + wrong


def test_card_has_80_cells_of_two_unambiguous_characters(principal_card):
    assert sorted(principal_card.cells) == sorted(CARD_CELLS)
    assert len(CARD_CELLS) == 80
    for value in principal_card.cells.values():
        assert len(value) == 2 and set(value) <= set(CARD_ALPHABET)


def test_database_keeps_only_macs_never_the_cells(principal_card, settings):
    device = MatrixCardDevice.objects.get(pk=principal_card.device.pk)
    assert sorted(device.cell_macs) == sorted(CARD_CELLS)
    stored = set(device.cell_macs.values())
    assert stored.isdisjoint(principal_card.cells.values()), "a clear cell value was stored"
    key = settings.MATRIX_CARD_KEY.encode()
    for cell, mac in device.cell_macs.items():
        assert re.fullmatch(r"[0-9a-f]{64}", mac)
        value = principal_card.cells[cell]
        # Computed independently of cell_mac: HMAC-SHA256 of user, serial, cell, value.
        message = f"{device.user_id}:{device.serial}:{cell}:{value}".encode()
        assert mac == hmac.new(key, message, hashlib.sha256).hexdigest()
    # Every cell's MAC differs, also where two cells hold the same value.
    assert len(stored) == len(CARD_CELLS)


def test_macs_depend_on_the_key_from_the_environment(principal_card, settings):
    device = principal_card.device
    settings.MATRIX_CARD_KEY = "another-key-another-key-another-key"
    assert device.cell_macs["A1"] != cell_mac(
        user_id=device.user_id, serial=device.serial, cell="A1", value=principal_card.cells["A1"]
    )
    settings.MATRIX_CARD_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        cell_mac(user_id=1, serial="X", cell="A1", value="K7")


def test_equal_values_on_two_cards_have_different_macs(principal, teacher):
    first = card_issue(user=principal, context=AuditContext.system()).device
    second = card_issue(user=teacher, context=AuditContext.system()).device
    first.cell_macs = {}
    first.set_cells(dict.fromkeys(CARD_CELLS, "K7"))
    second.set_cells(dict.fromkeys(CARD_CELLS, "K7"))
    assert first.cell_macs["A1"] != second.cell_macs["A1"]
    assert first.cell_macs["A1"] != first.cell_macs["B1"]


def test_answers_ignore_case_and_spaces(principal_card):
    device = principal_card.device
    cells = pinned(device)
    typed = " ".join(principal_card.cells[cell].lower() for cell in cells)
    assert device.verify_token(f"  {typed[:1]} {typed[1:]} ")


def test_challenge_is_three_distinct_cells_pinned_until_answered(principal_card):
    device = principal_card.device
    first = pinned(device)
    assert len(set(first)) == 3 and set(first) <= set(CARD_CELLS)
    # A reload or a new login in another browser sees the same cells.
    again = MatrixCardDevice.objects.get(pk=device.pk)
    assert pinned(again) == first
    assert again.verify_token(answer_token(principal_card, first))
    assert again.pinned_cells() is None


def test_wrong_answer_keeps_the_same_challenge(principal_card):
    device = principal_card.device
    cells = pinned(device)
    assert not device.verify_token("ZZZZZZ")
    assert pinned(MatrixCardDevice.objects.get(pk=device.pk)) == cells


def test_challenge_expires_after_15_minutes_without_counting_a_failure(principal_card):
    device = principal_card.device
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        cells = pinned(device)
        traveller.shift(datetime.timedelta(minutes=15))
        assert device.pinned_cells() is None
        # Answering an expired challenge is refused but counts as nothing.
        assert not device.verify_token(answer_token(principal_card, cells))
        assert device.throttling_failure_count == 0
        pinned(device)
    assert device.challenges_on_day == 2


def test_daily_cap_of_new_challenges_without_a_success(principal_card):
    device = principal_card.device
    start = timezone.now().replace(hour=6)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(DAILY_CHALLENGE_CAP):
            pinned(device)
            traveller.shift(datetime.timedelta(minutes=16))
        with pytest.raises(Refused) as refused:
            pinned(device)
        assert refused.value.code == RefusalCode.DAILY_CAP
        # The next day the count starts again.
        traveller.shift(datetime.timedelta(days=1))
        assert len(pinned(device)) == 3


def test_a_success_resets_the_daily_count(principal_card):
    device = principal_card.device
    with time_machine.travel(timezone.now().replace(hour=6), tick=False) as traveller:
        for _ in range(DAILY_CHALLENGE_CAP - 1):
            pinned(device)
            traveller.shift(datetime.timedelta(minutes=16))
        assert device.verify_token(answer_token(principal_card, pinned(device)))
        pinned(device)
        assert device.challenges_on_day == 1


def test_card_locks_after_five_wrong_answers_in_a_row(principal_card):
    device = principal_card.device
    cells = pinned(device)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(5):
            assert not device.verify_token("ZZZZZZ")
            traveller.shift(datetime.timedelta(seconds=30))
        assert device.state == CardState.LOCKED
        # Locked: even the right answer is refused, and no new challenge is issued.
        assert not device.verify_token(answer_token(principal_card, cells))
        assert device.verify_is_allowed()[0] is False
        device.challenge = ""
        device.challenge_issued_at = None
        with pytest.raises(Refused) as refused:
            device.generate_challenge()
        assert refused.value.code == RefusalCode.CARD_NOT_ACTIVE


def test_one_current_card_per_person_is_a_database_rule(principal_card, principal):
    from django.db import IntegrityError, transaction

    duplicate = MatrixCardDevice(
        user=principal, name="x", serial="AAAA-BBBB", issued_on=datetime.date(2026, 1, 1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


# SQLite (development only) has no row locks: every reader gets in and
# concurrent writers fail. Serialization is PostgreSQL's job, and CI runs it.
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)
@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_answers_are_judged_one_at_a_time():
    """Ten answers to the same challenge at the same moment.

    Meaningful on PostgreSQL, where `verify_token` locks the row: the first
    wrong answer sets the throttle and the nine waiting for the lock see it.
    """
    user = User.objects.create_user("samtidig", password="x" * 16, role=Role.PRINCIPAL)
    card = card_issue(user=user, context=AuditContext.system())
    cells = pinned(card.device)
    judged = []
    original = MatrixCardDevice._answer_matches

    def counting(device, *args):
        judged.append(1)
        # Widen the window in which an unlocked read would let others in.
        time.sleep(0.05)
        return original(device, *args)

    barrier = threading.Barrier(10)
    results = []

    def attempt(token: str) -> None:
        try:
            barrier.wait()
            results.append(verify_token(user, card.device.persistent_id, token))
        except Exception as error:
            results.append(error)
        finally:
            close_old_connections()
            connection.close()

    right = answer_token(card, cells)
    tokens = ["ZZZZZZ"] * 9 + [right]
    MatrixCardDevice._answer_matches = counting
    try:
        threads = [threading.Thread(target=attempt, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        MatrixCardDevice._answer_matches = original

    device = MatrixCardDevice.objects.get(pk=card.device.pk)
    passed = [r for r in results if isinstance(r, MatrixCardDevice)]
    assert len(results) == 10
    assert len(passed) <= 1
    # However the ten were ordered, at most one wrong answer was judged
    # before the throttle closed the door on the rest; the right answer
    # got through only if it was judged first.
    assert device.throttling_failure_count <= 1
    assert len(judged) == len(passed) + device.throttling_failure_count
    assert 1 <= len(judged) <= 2
