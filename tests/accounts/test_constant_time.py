"""Constant-time answers (issue item 6): a wrong password for an unknown
username, an account without a usable password, a CSV-imported account (a
fast PBKDF2 hash) and an ordinary account take the same time, so timing
tells neither which usernames exist nor which were imported and never
logged in.

What is measured is the work, not the clock: through the real login view,
with the production hashers instrumented, every password hash computed is
written down with its cost parameters, and every kind of account must cost
exactly one run of the default hasher at the default's parameters. Any other
hash allowed is the import's PBKDF2, and the last test shows that costs a
small fraction of the default's, so it cannot tell the accounts apart. (A
wall clock on a shared machine could not be trusted to within 20 % without
seconds of samples; the work done can be counted exactly.)
"""

import time

import argon2
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from accounts.hashers import PortalArgon2PasswordHasher
from accounts.models import Role, User
from permissions.passwords import GeneratedPasswordHasher, hash_generated_password

pytestmark = pytest.mark.django_db

PORTAL = "/bedomningsportalen/logga-in/"
WRONG = "Fel användarnamn eller lösenord."

# Every password hash computed while a test runs: (algorithm, cost parameters).
COMPUTED: list[tuple] = []

DEFAULT_COST = (
    "argon2",
    PortalArgon2PasswordHasher.time_cost,
    PortalArgon2PasswordHasher.memory_cost,
    PortalArgon2PasswordHasher.parallelism,
)
IMPORT_COST = ("pbkdf2_sha256", GeneratedPasswordHasher.iterations)


class CountedArgon2Hasher(PortalArgon2PasswordHasher):
    """The production default, writing down every hash it computes: a new
    one at its own parameters, a check at the stored hash's."""

    def encode(self, password, salt):
        params = self.params()
        COMPUTED.append(("argon2", params.time_cost, params.memory_cost, params.parallelism))
        return super().encode(password, salt)

    def verify(self, password, encoded):
        params = argon2.extract_parameters(encoded.removeprefix(self.algorithm))
        COMPUTED.append(("argon2", params.time_cost, params.memory_cost, params.parallelism))
        return super().verify(password, encoded)


class CountedPBKDF2Hasher(PBKDF2PasswordHasher):
    """PBKDF2 (which checks the import's hashes), writing down each run with its iterations."""

    def encode(self, password, salt, iterations=None):
        COMPUTED.append((self.algorithm, iterations or self.iterations))
        return super().encode(password, salt, iterations)


@pytest.fixture
def computed(settings):
    settings.PASSWORD_HASHERS = [
        "tests.accounts.test_constant_time.CountedArgon2Hasher",
        "tests.accounts.test_constant_time.CountedPBKDF2Hasher",
    ]
    COMPUTED.clear()
    yield COMPUTED
    COMPUTED.clear()


@pytest.fixture
def accounts(computed):
    User.objects.create_user("vanlig", password="ratt-losenord-2026", role=Role.TEACHER)
    User.objects.create_user("utanlosen", password=None, role=Role.TEACHER)
    User.objects.create(
        username="importerad",
        role=Role.TEACHER,
        password=hash_generated_password("abcd-EFGH-2345-jkmn"),
    )
    assert not User.objects.get(username="utanlosen").has_usable_password()
    assert User.objects.get(username="importerad").password.startswith("pbkdf2_sha256$100$")


def hashes_of_a_wrong_login(username: str) -> list[tuple]:
    """The hashes computed while the login view answers a wrong password for `username`."""
    COMPUTED.clear()
    response = Client().post(PORTAL, {"username": username, "password": "fel-losenord-1"})
    assert WRONG in response.content.decode()
    return list(COMPUTED)


def test_every_wrong_answer_costs_one_default_hash_whatever_the_account(accounts):
    names = {
        "unknown": "finnsinte",
        "no usable password": "utanlosen",
        "imported": "importerad",
        "real": "vanlig",
    }
    computed = {kind: hashes_of_a_wrong_login(username) for kind, username in names.items()}
    default_runs = {
        kind: [cost for cost in costs if cost == DEFAULT_COST] for kind, costs in computed.items()
    }
    assert default_runs == {kind: [DEFAULT_COST] for kind in names}, computed
    # The only other hash is the imported account's own check, a small fraction of one default run.
    others = {
        kind: [cost for cost in costs if cost != DEFAULT_COST] for kind, costs in computed.items()
    }
    assert others == {
        "unknown": [],
        "no usable password": [],
        "imported": [IMPORT_COST],
        "real": [],
    }, computed


def test_the_right_password_of_an_imported_account_costs_one_default_hash_too(accounts):
    """It is rehashed with the default hasher (and its next answers are an ordinary account's)."""
    COMPUTED.clear()
    response = Client().post(PORTAL, {"username": "importerad", "password": "abcd-EFGH-2345-jkmn"})
    assert response.status_code == 302
    assert response["Location"] == "/bedomningsportalen/"
    assert COMPUTED == [IMPORT_COST, DEFAULT_COST]
    assert User.objects.get(username="importerad").password.startswith("argon2$")


def cpu_cost(hasher, rounds: int = 5) -> float:
    """The least CPU time one hash took in `rounds` runs: other work on the
    machine only ever adds time, so the least is the hash's own cost."""
    costs = []
    for _ in range(rounds):
        started = time.process_time()
        hasher.encode("fel-losenord-1", hasher.salt())
        costs.append(time.process_time() - started)
    return min(costs)


def test_the_imports_hash_costs_a_small_fraction_of_one_default_hash():
    """Why counting default runs is enough: the import's PBKDF2 (100
    iterations) costs well under a tenth of one Argon2 run at the production
    parameters (about 0.03 ms against 20 ms), so the one account that computes
    both answers within a few per cent of the others, while an imported
    account that skipped the default run would answer many times faster."""
    default = PortalArgon2PasswordHasher()
    imported = GeneratedPasswordHasher()
    assert cpu_cost(imported) < cpu_cost(default) / 10
