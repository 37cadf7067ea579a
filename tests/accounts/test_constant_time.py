"""Constant-time answers (issue item 6): a wrong password for an unknown
username, a CSV-imported account (a fast PBKDF2 hash) and an ordinary
account take the same time, so timing tells neither which usernames exist
nor which were imported and never logged in.

Measured through the real login view with a real default hasher (Argon2,
smaller parameters so the test is quick; the fix compares against
`get_hasher("default")` whatever it is). On a shared two-core machine:
many samples, interleaved, compared by their medians with a margin.
"""

import statistics
import time

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client

from accounts.models import PasswordFailure, Role, ThrottleBurst, User
from permissions.passwords import hash_generated_password

pytestmark = pytest.mark.django_db

ROUNDS = 30
PORTAL = "/bedomningsportalen/logga-in/"


class MeasuredArgon2Hasher(Argon2PasswordHasher):
    """Argon2 costing tens of milliseconds: far slower than the import's
    PBKDF2 (about 0.35 ms), as in production, yet quick enough to sample."""

    memory_cost = 16 * 1024
    time_cost = 2
    parallelism = 1


@pytest.fixture
def hashers(settings):
    settings.PASSWORD_HASHERS = [
        "tests.accounts.test_constant_time.MeasuredArgon2Hasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture
def accounts(hashers):
    real = User.objects.create_user("vanlig", password="ratt-losenord-2026", role=Role.TEACHER)
    imported = User.objects.create(
        username="importerad",
        role=Role.TEACHER,
        password=hash_generated_password("abcd-EFGH-2345-jkmn"),
    )
    return real, imported


def timed_wrong_login(client: Client, username: str) -> float:
    # A clean throttle for every sample, so that every attempt is checked.
    PasswordFailure.objects.all().delete()
    ThrottleBurst.objects.all().delete()
    started = time.perf_counter()
    response = client.post(PORTAL, {"username": username, "password": "fel-losenord-1"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return elapsed


def test_unknown_imported_and_real_accounts_answer_in_the_same_time(accounts, capsys):
    client = Client()
    names = {"unknown": "finnsinte", "imported": "importerad", "real": "vanlig"}
    for username in names.values():  # warm up caches, connections, templates
        timed_wrong_login(client, username)
    samples: dict[str, list[float]] = {kind: [] for kind in names}
    relative: dict[str, list[float]] = {kind: [] for kind in names}
    for round_number in range(ROUNDS):
        # Interleaved, in a rotating order, so load on the machine hits all alike.
        order = list(names.items())
        shift = round_number % len(order)
        this_round = {
            kind: timed_wrong_login(client, username)
            for kind, username in order[shift:] + order[:shift]
        }
        mean = statistics.mean(this_round.values())
        for kind, elapsed in this_round.items():
            samples[kind].append(elapsed)
            # Each answer against its own round's mean: other work on the
            # shared machine slows a whole round, not one kind of account.
            relative[kind].append(elapsed / mean)
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    relative_medians = {kind: statistics.median(values) for kind, values in relative.items()}
    with capsys.disabled():
        print(
            "\nwrong-password medians (ms): "
            + ", ".join(f"{kind} {value * 1000:.1f}" for kind, value in medians.items())
            + "; relative to their round: "
            + ", ".join(f"{kind} {value:.3f}" for kind, value in relative_medians.items())
        )
    assert max(relative_medians.values()) / min(relative_medians.values()) < 1.2, (
        medians,
        relative_medians,
    )


def test_the_measurement_can_tell_the_hashes_apart(accounts):
    """Without the equalizing hash the imported account would answer far
    faster: the raw checks differ by much more than the 20 % margin, so the
    test above would notice a regression."""
    real, imported = accounts

    def median_of(user):
        values = []
        for _ in range(7):
            started = time.perf_counter()
            user.check_password("fel-losenord-1")
            values.append(time.perf_counter() - started)
        return statistics.median(values)

    assert median_of(imported) < 0.5 * median_of(real)
