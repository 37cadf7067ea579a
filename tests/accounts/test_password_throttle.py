"""The password step's throttle, shared by both logins, counted in database rows."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.models import PasswordFailure
from accounts.throttle import ADDRESS_LIMIT, FREE_FAILURES, username_delay, username_key
from permissions.models import AuditEvent

ETJANSTER = "/e-tjanster/logga-in/"
PORTAL = "/bedomningsportalen/logga-in/"


def attempt(client, url, username, password, **meta):
    return client.post(url, {"username": username, "password": password}, **meta)


def test_delay_grows_and_is_capped():
    assert username_delay(FREE_FAILURES - 1) == datetime.timedelta(0)
    delays = [username_delay(n) for n in range(FREE_FAILURES, FREE_FAILURES + 5)]
    assert [d.total_seconds() for d in delays] == [1, 2, 4, 8, 16]
    assert username_delay(100) == datetime.timedelta(minutes=15)


def test_wrong_passwords_bring_a_delay_then_even_the_right_one_waits(client, principal):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(FREE_FAILURES):
            response = attempt(client, ETJANSTER, "rektor", "fel")
            assert "Fel användarnamn eller lösenord." in response.content.decode()
        assert "försök igen kl." in response.content.decode()
        response = attempt(client, ETJANSTER, "rektor", "rektor-password-1234")
        assert response.status_code == 200
        assert "försök igen kl." in response.content.decode()
        assert "_auth_user_id" not in client.session
        traveller.shift(datetime.timedelta(seconds=2))
        response = attempt(client, ETJANSTER, "rektor", "rektor-password-1234")
    # The right password now passes (to a card problem: the principal has no card).
    assert "Fel användarnamn" not in response.content.decode()
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
    assert "försök igen kl." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_are_audited_with_the_factor(client, principal):
    attempt(client, ETJANSTER, "rektor", "fel", REMOTE_ADDR="192.0.2.7")
    event = AuditEvent.objects.get(action="login_failed")
    assert event.details == {"factor": "password", "door": "etjanster"}
    assert event.ip_address == "192.0.2.7"
    assert event.target == "rektor"


def fill_address(address: str, count: int) -> None:
    now = timezone.now()
    PasswordFailure.objects.bulk_create(
        PasswordFailure(username=f"user{n}", address=address, created_at=now) for n in range(count)
    )


def test_one_address_is_refused_after_many_failures_across_usernames(client, teacher):
    fill_address("198.51.100.9", ADDRESS_LIMIT)
    response = attempt(client, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.9")
    assert "försök igen kl." in response.content.decode()
    # Another address (another school) is not affected.
    response = attempt(
        client, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.10"
    )
    assert response.status_code == 302


def test_a_school_behind_one_address_is_not_locked_out_by_a_few_mistakes(client, teacher):
    fill_address("198.51.100.9", ADDRESS_LIMIT - 1)
    response = attempt(client, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302


def test_address_failures_are_forgotten_after_15_minutes(client, teacher):
    fill_address("198.51.100.9", ADDRESS_LIMIT)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=15, seconds=1)):
        response = attempt(
            client, PORTAL, "larare", "larare-password-1234", REMOTE_ADDR="198.51.100.9"
        )
    assert response.status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, settings, teacher):
    settings.TRUSTED_PROXY_COUNT = 1
    fill_address("203.0.113.5", ADDRESS_LIMIT)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    refused = attempt(
        client,
        PORTAL,
        "larare",
        "larare-password-1234",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5",
        **proxy,
    )
    assert "försök igen kl." in refused.content.decode()
    # A client cannot escape by forging the left part of the header.
    allowed = attempt(
        client,
        PORTAL,
        "larare",
        "larare-password-1234",
        HTTP_X_FORWARDED_FOR="203.0.113.5, 203.0.113.6",
        **proxy,
    )
    assert allowed.status_code == 302
    assert set(PasswordFailure.objects.values_list("address", flat=True)) == {"203.0.113.5"}


def test_without_trusted_proxy_the_forwarded_header_is_ignored(client, settings, teacher):
    settings.TRUSTED_PROXY_COUNT = 0
    attempt(
        client, PORTAL, "larare", "fel", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert PasswordFailure.objects.get().address == "192.0.2.1"


def test_unknown_and_known_usernames_cost_one_hash_each(client, teacher, monkeypatch):
    # SECURITY: the same work for both, so response time does not tell
    # whether a username exists (Django's ModelBackend hashes for unknown users).
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls = []
    original = MD5PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    attempt(client, PORTAL, "larare", "fel-1")
    attempt(client, PORTAL, "finnsinte", "fel-2")
    assert calls == ["fel-1", "fel-2"]


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
