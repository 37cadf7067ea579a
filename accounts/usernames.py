"""Generated usernames: stable for life, easy to read aloud and type.

SECURITY: never derived from a personal identity number or a name, so a
username reveals nothing about its holder.
"""

import secrets

from accounts.models import User

# No 0/O, 1/l/I: a username copied off paper must not be ambiguous.
USERNAME_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
USERNAME_LENGTH = 8


def generate_username() -> str:
    while True:
        candidate = "".join(secrets.choice(USERNAME_ALPHABET) for _ in range(USERNAME_LENGTH))
        if not User.objects.filter(username=candidate).exists():
            return candidate


def generate_password(length: int = 16) -> str:
    """A generated password: the same unambiguous alphabet, grouped for reading."""
    alphabet = USERNAME_ALPHABET + "ABCDEFGHJKLMNPQRSTUVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(length))
    return "-".join(raw[i : i + 4] for i in range(0, length, 4))
