"""Hashing of generated one-time passwords in bulk.

The site hashes with Argon2id (accounts/hashers.py: about 25 ms of CPU and
19 MiB per hash), which is right for passwords people choose. A CSV import
of 5,000 teachers would spend minutes hashing in one request. A generated
password is 16 characters from a 55-character alphabet: about 92 bits of
entropy. For a secret that
strong a slow hash adds nothing an attacker can notice — no guessing list
reaches 2^92 — so bulk imports hash with PBKDF2-SHA256 at 100 iterations
(about 7 bits of work on top of 92), salted per account as usual: 5,000
teachers hash in a tenth of a second.

SECURITY: such a hash is flagged by Django's own `must_update` (iterations
below the configured hasher's, and not the preferred Argon2), so the first
successful login rehashes the password with Argon2 automatically.
"""

import secrets

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

from accounts.usernames import USERNAME_ALPHABET

# As `accounts.usernames.generate_password`: 16 characters in groups of four.
PASSWORD_ALPHABET = USERNAME_ALPHABET + "ABCDEFGHJKLMNPQRSTUVWXYZ"
PASSWORD_LENGTH = 16


class GeneratedPasswordHasher(PBKDF2PasswordHasher):
    """Standard `pbkdf2_sha256$<iterations>$...` format, so Django's
    PBKDF2PasswordHasher verifies it without this class being configured."""

    iterations = 100

    def salt(self) -> str:
        # 128 bits from one read of the CSPRNG: Django's default draws 22
        # characters with a system call each (110,000 for 5,000 teachers).
        return secrets.token_hex(16)


_HASHER = GeneratedPasswordHasher()


def hash_generated_password(password: str) -> str:
    return make_password(password, hasher=_HASHER)


def random_strings(*, count: int, length: int, alphabet: str) -> list[str]:
    """`count` strings of `length` characters, each drawn uniformly from `alphabet`
    by the operating system's CSPRNG (`secrets`), read in one go.

    `secrets.choice` per character costs a system call each: 100,000 of them
    for a CSV import of 5,000 teachers. Bytes at or above the largest multiple
    of the alphabet's size are skipped, so every character is equally likely.
    """
    size = len(alphabet)
    limit = 256 - 256 % size
    needed = count * length
    chars: list[str] = []
    while len(chars) < needed:
        chars += [
            alphabet[b % size] for b in secrets.token_bytes(needed - len(chars) + 64) if b < limit
        ]
    del chars[needed:]
    return ["".join(chars[i * length : (i + 1) * length]) for i in range(count)]


def generate_passwords(count: int) -> list[str]:
    """`count` passwords as `accounts.usernames.generate_password` makes one."""
    return [
        "-".join(raw[i : i + 4] for i in range(0, PASSWORD_LENGTH, 4))
        for raw in random_strings(count=count, length=PASSWORD_LENGTH, alphabet=PASSWORD_ALPHABET)
    ]
