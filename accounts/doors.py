"""The four logins ("doors") and which role uses which.

SECURITY: each role has exactly one door. E-tjänster takes the password and
the matrix card, Bedömningsportalen the password, the two admin sites the
password and a TOTP code. `permissions.policy` builds its rules about who
may log in where on `door_of` (adding that the account is active);
`admin_login` asks it directly.
"""

from enum import StrEnum

from accounts.models import Role, User


class Door(StrEnum):
    ETJANSTER = "etjanster"
    PORTAL = "bedomningsportalen"
    # The two admin sites: password and TOTP code in one form.
    ADMIN = "admin"
    HUVUDMAN = "huvudman"


def door_of(user: User) -> Door | None:
    """The door the account's role logs in at, by role alone (active or not)."""
    if user.role in (Role.PRINCIPAL, Role.TEST_ADMIN):
        return Door.ETJANSTER
    if user.role == Role.TEACHER:
        return Door.PORTAL
    if user.role == Role.NATIONAL_ADMIN:
        return Door.ADMIN
    if user.role == Role.HUVUDMAN_STAFF and user.huvudman_id is not None:
        return Door.HUVUDMAN
    return None
