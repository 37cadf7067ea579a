"""The password step's throttle, shared by every password check, counted in
database rows: a delay that slows guessing and never locks the owner out."""

import datetime
import threading
import time

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import PasswordFailure, Role, ThrottleBurst, User
from accounts.throttle import (
    ADDRESS_USERNAME_LIMIT,
    BURST_QUIET,
    FREE_FAILURES,
    SPREAD_FREE_FAILURES,
    username_delay,
    username_key,
)
from audit.models import AuditEvent
from core.network import DEVICE_COOKIE

ETJANSTER = "/e-tjanster/logga-in/"
PORTAL = "/bedomningsportalen/logga-in/"
PORTAL_HOME = "/bedomningsportalen/"
WAIT = "För många försök, vänta till kl. "
WRONG = "Fel användarnamn eller lösenord."


def attempt(client, url, username, password, **meta):
    return client.post(url, {"username": username, "password": password}, **meta)


def logged_in(client, response, user) -> bool:
    """Whether the portal login let `user` in: on to the portal, in this browser's session."""
    return (
        response.status_code == 302
        and response["Location"] == PORTAL_HOME
        and client.session.get("_auth_user_id") == str(user.pk)
    )


def test_delay_grows_and_is_capped():
    assert username_delay(FREE_FAILURES - 1) == datetime.timedelta(0)
    delays = [username_delay(n) for n in range(FREE_FAILURES, FREE_FAILURES + 5)]
    assert [d.total_seconds() for d in delays] == [1, 2, 4, 8, 16]
    assert username_delay(100) == datetime.timedelta(minutes=15)


def test_during_a_delay_even_the_right_password_is_told_to_wait_never_that_it_is_wrong(
    client, principal
):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(FREE_FAILURES):
            response = attempt(client, ETJANSTER, "rektor", "fel")
            assert WRONG in response.content.decode()
        # The third wrong one was checked: wrong, and now wait.
        assert WAIT in response.content.decode()
        response = attempt(client, ETJANSTER, "rektor", "rektor-password-1234")
        html = response.content.decode()
        assert response.status_code == 200
        assert WAIT in html
        # SECURITY (ASVS 6.3.1): the password was not looked at, so it is not called wrong.
        assert WRONG not in html
        assert "_auth_user_id" not in client.session
        traveller.shift(datetime.timedelta(seconds=2))
        response = attempt(client, ETJANSTER, "rektor", "rektor-password-1234")
    # The right password now passes (to a card problem: the principal has no card).
    assert WRONG not in response.content.decode()
    assert WAIT not in response.content.decode()
    assert not PasswordFailure.objects.filter(username=username_key("rektor")).exists()


def test_unknown_user_and_wrong_password_get_the_same_answer(client, principal):
    unknown = attempt(client, ETJANSTER, "finnsinte", "fel").content.decode()
    wrong = attempt(client, ETJANSTER, "rektor", "fel").content.decode()

    def strip(page):
        return (
            page.replace("finnsinte", "")
            .replace("rektor", "")
            .split('name="csrfmiddlewaretoken"')[0]
        )

    assert strip(unknown) == strip(wrong)
    assert PasswordFailure.objects.filter(username=username_key("finnsinte")).count() == 1


def test_empty_fields_are_form_errors_and_count_nothing(client, principal):
    response = client.post(ETJANSTER, {"username": "rektor", "password": ""})
    assert response.status_code == 200
    assert "Detta fält måste fyllas i." in response.content.decode()
    client.post(PORTAL, {"username": "", "password": "x"})
    assert PasswordFailure.objects.count() == 0
    assert not AuditEvent.objects.filter(action="login_failed").exists()


def test_both_logins_share_the_throttle(client, teacher):
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(FREE_FAILURES):
            attempt(client, ETJANSTER, "larare", "fel")
        response = attempt(client, PORTAL, "larare", "larare-password-1234")
    assert WAIT in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_are_audited_with_the_factor(client, principal):
    attempt(client, ETJANSTER, "rektor", "fel", REMOTE_ADDR="192.0.2.7")
    event = AuditEvent.objects.get(action="login_failed")
    assert event.details == {"factor": "password", "door": "etjanster"}
    assert event.ip_address == "192.0.2.7"
    assert event.target == "rektor"


# --- Nobody locks the owner out ------------------------------------------------------


def test_a_guess_every_15_minutes_from_elsewhere_never_keeps_the_owner_out(teacher):
    """The lockout of the issue: one wrong guess per 15 minutes kept the
    username delayed for everyone. Now the guesser's address is delayed, the
    owner's is not."""
    attacker, owner = Client(), Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(12):  # three hours of patient guessing
            attempt(attacker, PORTAL, "larare", "gissning", REMOTE_ADDR="203.0.113.66")
            traveller.shift(datetime.timedelta(minutes=15))
        assert (
            WAIT
            in attempt(
                attacker, PORTAL, "larare", "gissning", REMOTE_ADDR="203.0.113.66"
            ).content.decode()
        )
        response = attempt(
            owner, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.20"
        )
    assert logged_in(owner, response, teacher)


def test_a_browser_the_owner_logged_in_from_is_not_slowed_by_guesses_from_the_same_network(
    teacher,
):
    """A pupil behind the school's NAT address guesses the teacher's username:
    the teacher's own browser (which logged in before) is judged on its own."""
    school = {"REMOTE_ADDR": "198.51.100.9"}
    owner, pupil = Client(), Client()
    assert logged_in(
        owner, attempt(owner, PORTAL, "larare", "larare-password-1234", **school), teacher
    )
    assert DEVICE_COOKIE in owner.cookies
    owner.post("/logga-ut/")
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(20):
            attempt(pupil, PORTAL, "larare", "gissning", **school)
        assert WAIT in attempt(pupil, PORTAL, "larare", "gissning", **school).content.decode()
        # A browser without the cookie on the same network waits too …
        assert (
            WAIT
            in attempt(
                Client(), PORTAL, "larare", "larare-password-1234", **school
            ).content.decode()
        )
        # … but the owner's own browser gets in.
        response = attempt(owner, PORTAL, "larare", "larare-password-1234", **school)
    assert logged_in(owner, response, teacher)


def test_a_trusted_browser_still_has_a_delay_of_its_own(teacher):
    owner = Client()
    assert logged_in(owner, attempt(owner, PORTAL, "larare", "larare-password-1234"), teacher)
    owner.post("/logga-ut/")
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(FREE_FAILURES):
            attempt(owner, PORTAL, "larare", "fel")
        response = attempt(owner, PORTAL, "larare", "larare-password-1234")
    assert WAIT in response.content.decode()


def test_a_forged_device_cookie_is_ignored(teacher):
    forger = Client()
    forger.cookies[DEVICE_COOKIE] = "eyJpZCI6ImF0dGFjayJ9:forged:signature"
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(FREE_FAILURES):
            attempt(forger, PORTAL, "larare", "fel")
        response = attempt(forger, PORTAL, "larare", "larare-password-1234")
    assert WAIT in response.content.decode()
    assert set(PasswordFailure.objects.values_list("device", flat=True)) == {""}


def test_guesses_from_many_addresses_share_one_delay_for_untrusted_browsers(teacher):
    """A botnet gets 3 free guesses per address, but past SPREAD_FREE_FAILURES
    untrusted failures in a day every untrusted browser waits (NIST: at most
    about 100 guesses at one account); the owner's trusted browser does not."""
    owner = Client()
    assert logged_in(owner, attempt(owner, PORTAL, "larare", "larare-password-1234"), teacher)
    owner.post("/logga-ut/")
    with time_machine.travel(timezone.now(), tick=False):
        for number in range(SPREAD_FREE_FAILURES):
            attempt(Client(), PORTAL, "larare", "gissning", REMOTE_ADDR=f"10.1.{number}.1")
        fresh = attempt(Client(), PORTAL, "larare", "gissning", REMOTE_ADDR="10.2.0.1")
        assert WAIT in fresh.content.decode()
        response = attempt(owner, PORTAL, "larare", "larare-password-1234")
    assert logged_in(owner, response, teacher)


def fill_address(address: str, count: int) -> None:
    """`count` distinct usernames failed from `address` just now."""
    now = timezone.now()
    PasswordFailure.objects.bulk_create(
        PasswordFailure(username=username_key(f"user{n}"), address=address, created_at=now)
        for n in range(count)
    )


def test_one_address_is_refused_a_new_username_after_many_distinct_ones_failed(client, teacher):
    fill_address("198.51.100.9", ADDRESS_USERNAME_LIMIT)
    response = attempt(client, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.9")
    assert WAIT in response.content.decode()
    # A username that already failed there is judged by its own delay only.
    response = attempt(client, PORTAL, "user1", "fel", REMOTE_ADDR="198.51.100.9")
    assert WRONG in response.content.decode()
    # Another address (another school) is not affected.
    response = attempt(
        client, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.10"
    )
    assert logged_in(client, response, teacher)


def test_a_whole_school_behind_one_address_gets_in_while_a_guesser_there_is_stopped(db):
    """Normal use at a school with one NAT address: more teachers than the
    address's limit of distinct failing usernames mistype their password once
    and type it right a little later, ten of them between the two at any
    moment, all within the same 15 minutes (time stands still). Nobody is
    refused: a right password forgets that username's mistake at the address.
    A guesser at the same address, trying one username after another, is
    refused at the limit."""
    school = {"REMOTE_ADDR": "198.51.100.9"}
    in_between = 10
    teachers = ADDRESS_USERNAME_LIMIT + in_between
    User.objects.bulk_create(
        User(username=f"lar{n}", role=Role.TEACHER, password=make_password(f"lar{n}-password"))
        for n in range(teachers)
    )
    users = User.objects.in_bulk(field_name="username")
    browsers = [Client() for _ in range(teachers)]
    refused = []
    with time_machine.travel(timezone.now(), tick=False):
        for step in range(teachers + in_between):
            if step < teachers:
                wrong = attempt(browsers[step], PORTAL, f"lar{step}", "skrev-fel", **school)
                if WRONG not in wrong.content.decode():
                    refused.append((f"lar{step}", "wrong", wrong.status_code))
            if (n := step - in_between) >= 0:
                right = attempt(browsers[n], PORTAL, f"lar{n}", f"lar{n}-password", **school)
                if not logged_in(browsers[n], right, users[f"lar{n}"]):
                    refused.append((f"lar{n}", "right", right.status_code))
        assert refused == []
        assert not PasswordFailure.objects.exists()
        # A guesser there: one guess at each of as many usernames as the limit, then no more.
        guesser = Client()
        for n in range(ADDRESS_USERNAME_LIMIT):
            guess = attempt(guesser, PORTAL, f"lar{n}", "Sommar2026", **school)
            assert WRONG in guess.content.decode(), n
        guess = attempt(guesser, PORTAL, f"lar{ADDRESS_USERNAME_LIMIT}", "Sommar2026", **school)
    assert WAIT in guess.content.decode()
    assert "_auth_user_id" not in guesser.session


def test_a_school_behind_one_address_is_not_locked_out_by_a_few_mistakes(client, teacher):
    fill_address("198.51.100.9", ADDRESS_USERNAME_LIMIT - 1)
    response = attempt(client, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.9")
    assert logged_in(client, response, teacher)


def test_address_failures_are_forgotten_after_15_minutes(teacher):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        fill_address("198.51.100.9", ADDRESS_USERNAME_LIMIT)
        traveller.shift(datetime.timedelta(minutes=14, seconds=59))
        early = Client()
        response = attempt(
            early, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.9"
        )
        assert WAIT in response.content.decode()
        assert "_auth_user_id" not in early.session
        traveller.shift(datetime.timedelta(seconds=2))
        client = Client()
        response = attempt(
            client, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.9"
        )
    assert logged_in(client, response, teacher)


# --- Refused attempts: one audit event per burst ---------------------------------------


def test_a_flood_of_throttled_attempts_is_one_audit_event_with_its_count(client, teacher):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(FREE_FAILURES):
            attempt(client, PORTAL, "larare", "fel")
        for _ in range(50):
            assert WAIT in attempt(client, PORTAL, "larare", "fel").content.decode()
        assert AuditEvent.objects.filter(action="login_failed").count() == FREE_FAILURES
        assert not AuditEvent.objects.filter(action="login_throttled").exists()
        assert ThrottleBurst.objects.get().count == 50
        # Once the burst has been quiet a while, any password check writes it down.
        traveller.shift(BURST_QUIET + datetime.timedelta(seconds=1))
        attempt(Client(), PORTAL, "nagon-annan", "fel")
    event = AuditEvent.objects.get(action="login_throttled")
    assert event.details["count"] == 50
    assert event.details["reason"] == "username"
    assert event.target == "larare"
    assert event.school_unit is None  # a teacher's failures belong to no single school
    assert not ThrottleBurst.objects.exists()
    assert AuditEvent.objects.filter(action="login_failed").count() == FREE_FAILURES + 1


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, settings, teacher):
    settings.TRUSTED_PROXY_COUNT = 1
    fill_address("203.0.113.5", ADDRESS_USERNAME_LIMIT)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    refused = attempt(
        client,
        PORTAL,
        "larare",
        "larare-password-1234",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5",
        **proxy,
    )
    assert "vänta till kl." in refused.content.decode()
    # A client cannot escape by forging the left part of the header.
    allowed = attempt(
        client,
        PORTAL,
        "larare",
        "larare-password-1234",
        HTTP_X_FORWARDED_FOR="203.0.113.5, 203.0.113.6",
        **proxy,
    )
    assert logged_in(client, allowed, teacher)
    assert set(PasswordFailure.objects.values_list("address", flat=True)) == {"203.0.113.5"}


def test_without_trusted_proxy_the_forwarded_header_is_ignored(client, settings, teacher):
    settings.TRUSTED_PROXY_COUNT = 0
    attempt(
        client, PORTAL, "larare", "fel", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert PasswordFailure.objects.get().address == "192.0.2.1"


def test_unknown_known_and_imported_usernames_cost_one_default_hash_each(
    client, teacher, monkeypatch, settings
):
    # SECURITY: the same work for all three, so response time does not tell
    # whether a username exists or was imported with a fast hash. The tests'
    # default hasher is MD5; the import's PBKDF2 is another algorithm.
    from django.contrib.auth.hashers import MD5PasswordHasher

    from accounts.models import Role, User
    from permissions.passwords import hash_generated_password

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    User.objects.create(
        username="importerad", role=Role.TEACHER, password=hash_generated_password("x-y-z")
    )
    calls = []
    original = MD5PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    attempt(client, PORTAL, "larare", "fel-1")
    attempt(client, PORTAL, "finnsinte", "fel-2")
    attempt(client, PORTAL, "importerad", "fel-3")
    assert calls == ["fel-1", "fel-2", "fel-3"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the advisory lock needs PostgreSQL; SQLite refuses concurrent writers (CI runs PG)",
)
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_for_one_username_cannot_skip_the_delay(settings):
    """Ten wrong passwords for one username at the same moment.

    On PostgreSQL the checks of one username are serialized, so only the
    free failures are judged and the rest meet the delay.
    """
    from django.test import Client

    from accounts.models import Role, User

    # A real, slow hasher (it releases the GIL) opens the window a race needs.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    User.objects.create_user("parallell", password="ratt-losenord-1234", role=Role.TEACHER)
    barrier = threading.Barrier(10)
    statuses = []

    def guess(number: int) -> None:
        try:
            barrier.wait()
            response = Client().post(PORTAL, {"username": "parallell", "password": f"fel-{number}"})
            statuses.append(response.status_code)
        except Exception as error:
            statuses.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 10
    assert PasswordFailure.objects.filter(username=username_key("parallell")).count() == (
        FREE_FAILURES
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the advisory lock needs PostgreSQL; SQLite refuses concurrent writers (CI runs PG)",
)
@pytest.mark.django_db(transaction=True)
def test_parallel_refused_guesses_at_different_usernames_share_one_address_burst(monkeypatch):
    """Two guesses at the same moment from an address past its limit, at two
    new usernames: each holds only its own username's lock, and both start
    the address's burst. Neither may fail (an IntegrityError on the burst's
    key would be a 500 and lose the count)."""
    from django.test import Client

    fill_address("198.51.100.9", ADDRESS_USERNAME_LIMIT)
    # A slow insert opens the window between "no burst yet" and "create it".
    original = ThrottleBurst.objects.create

    def slow_create(**fields):
        time.sleep(0.3)
        return original(**fields)

    monkeypatch.setattr(ThrottleBurst.objects, "create", slow_create)
    barrier = threading.Barrier(2)
    statuses = []

    def guess(username: str) -> None:
        try:
            barrier.wait()
            response = attempt(Client(), PORTAL, username, "fel", REMOTE_ADDR="198.51.100.9")
            statuses.append(WAIT in response.content.decode())
        except Exception as error:
            statuses.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(name,)) for name in ("ny-ett", "ny-tva")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [True, True]
    burst = ThrottleBurst.objects.get()
    assert (burst.reason, burst.count) == ("address", 2)
