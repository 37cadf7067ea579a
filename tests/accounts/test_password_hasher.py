"""The password hasher: Argon2id at OWASP's minimum, and older hashes upgraded at login."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher, make_password

from accounts.hashers import PortalArgon2PasswordHasher
from accounts.models import Role, User
from config.settings import base

PORTAL = "/bedomningsportalen/logga-in/"
PASSWORD = "ett-bra-losenord-1234"
# The hashers production runs (the test settings hash with MD5 for speed).
PRODUCTION_HASHERS = base.PASSWORD_HASHERS


def argon2_parameters(encoded: str) -> str:
    """`m=…,t=…,p=…` of an `argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash` string."""
    return encoded.split("$")[3]


def test_production_hashes_new_passwords_with_argon2id_at_the_owasp_minimum():
    assert PRODUCTION_HASHERS[0] == "accounts.hashers.PortalArgon2PasswordHasher"
    encoded = make_password(PASSWORD, hasher=PortalArgon2PasswordHasher())
    assert encoded.startswith("argon2$argon2id$v=19$")
    # OWASP: m = 19 MiB (19,456 KiB), t = 2, p = 1 at least.
    assert argon2_parameters(encoded) == "m=19456,t=2,p=1"


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


def teacher_with_hash(encoded: str) -> User:
    user = User.objects.create_user("uppgradera", role=Role.TEACHER)
    user.password = encoded
    user.save(update_fields=["password"])
    return user


def test_a_hash_with_djangos_argon2_defaults_is_upgraded_at_the_next_login(
    client, db, production_hashers
):
    old = make_password(PASSWORD, hasher=Argon2PasswordHasher())
    assert argon2_parameters(old) == "m=102400,t=2,p=8"
    user = teacher_with_hash(old)

    response = client.post(PORTAL, {"username": "uppgradera", "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert argon2_parameters(user.password) == "m=19456,t=2,p=1"
    assert isinstance(identify_hasher(user.password), PortalArgon2PasswordHasher)
    assert user.check_password(PASSWORD)


def test_a_wrong_password_leaves_the_old_hash_alone(client, db, production_hashers):
    old = make_password(PASSWORD, hasher=Argon2PasswordHasher())
    user = teacher_with_hash(old)

    response = client.post(PORTAL, {"username": "uppgradera", "password": "fel-losenord-1234"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password == old


def test_a_pbkdf2_hash_from_the_csv_import_is_upgraded_to_argon2_at_the_next_login(
    client, db, production_hashers
):
    from permissions.passwords import hash_generated_password

    user = teacher_with_hash(hash_generated_password(PASSWORD))

    client.post(PORTAL, {"username": "uppgradera", "password": PASSWORD})

    user.refresh_from_db()
    assert argon2_parameters(user.password) == "m=19456,t=2,p=1"
