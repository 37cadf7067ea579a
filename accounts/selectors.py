"""Reads about accounts for the login pages."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models.functions import Lower

from accounts.models import Role, User
from permissions.models import TestAdministrator
from schools.models import Huvudman


@dataclass(frozen=True)
class Contact:
    """Whom to ask for a new card or an unlock: always the role one level up."""

    name: str
    organisation: str
    email: str
    phone: str = ""


def card_contacts(*, user: User) -> list[Contact]:
    """A principal asks their huvudman's contact person; a test administrator the principal."""
    if user.role == Role.PRINCIPAL:
        huvudmän = Huvudman.objects.filter(school_units__principals=user).distinct()
        return [
            Contact(
                name=huvudman.contact_name,
                organisation=huvudman.name,
                email=huvudman.contact_email,
                phone=huvudman.contact_phone,
            )
            for huvudman in huvudmän
        ]
    if user.role == Role.TEST_ADMIN:
        principals = (
            User.objects.filter(
                role=Role.PRINCIPAL,
                is_active=True,
                principal_assignments__school_unit__test_administrators__user=user,
            )
            .distinct()
            .order_by("last_name", "first_name")
        )
        appointment = TestAdministrator.objects.filter(user=user).select_related("school_unit")
        school = appointment[0].school_unit.name if appointment else ""
        return [
            Contact(name=principal.get_full_name(), organisation=school, email=principal.email)
            for principal in principals
        ]
    return []


def teacher_accounts_by_email(*, emails: Iterable[str]) -> dict[str, User]:
    """The teacher account of each e-mail address (keyed in lower case), in one query.

    One person, one teacher account: an address already used by a teacher at
    any school is linked, not given a second account. When several accounts
    share an address (older data), the oldest wins, everywhere the same.
    """
    wanted = sorted({email.strip().lower() for email in emails if email.strip()})
    accounts: dict[str, User] = {}
    if not wanted:
        return accounts
    for user in (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(role=Role.TEACHER, email_lower__in=wanted)
        .order_by("-pk")
    ):
        accounts[user.email_lower] = user
    return accounts
