"""Hashing of generated one-time passwords in bulk.

Django hashes with Argon2 (about 100 ms and 100 MiB per hash), which is right
for passwords people choose. A CSV import of 1,000 teachers would spend more
than a minute hashing in one request. A generated password is 16 characters
from a 55-character alphabet: about 92 bits of entropy. For a secret that
strong a slow hash adds nothing an attacker can notice — no guessing list
reaches 2^92 — so bulk imports hash with PBKDF2-SHA256 at a small iteration
count, salted per account as usual.

SECURITY: such a hash is flagged by Django's own `must_update` (iterations
below the configured hasher's, and not the preferred Argon2), so the first
successful login rehashes the password with Argon2 automatically.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password


class GeneratedPasswordHasher(PBKDF2PasswordHasher):
    """Standard `pbkdf2_sha256$<iterations>$...` format, so Django's
    PBKDF2PasswordHasher verifies it without this class being configured."""

    iterations = 1_000


_HASHER = GeneratedPasswordHasher()


def hash_generated_password(password: str) -> str:
    return make_password(password, hasher=_HASHER)
