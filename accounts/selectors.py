"""Reads about accounts for the login pages."""

from dataclasses import dataclass

from accounts.models import Role, User
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
            .select_related(None)
            .prefetch_related(None)
            .distinct()
            .order_by("last_name", "first_name")
        )
        school = user.test_admin_appointment.school_unit.name
        return [
            Contact(name=principal.get_full_name(), organisation=school, email=principal.email)
            for principal in principals
        ]
    return []
