"""Reads about accounts for the login pages: whom to contact."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext

from accounts.models import Role, User
from permissions.models import Membership, TestAdministrator
from permissions.policy import linkable_teacher_accounts
from schools.models import Huvudman


@dataclass(frozen=True)
class Contact:
    """Whom to ask for a new password or card, an unlock or a reactivation:
    always the role one level up, by name."""

    name: str
    organisation: str
    email: str
    phone: str = ""


def _principals_of(units_filter: dict) -> list[User]:
    return list(
        User.objects.filter(role=Role.PRINCIPAL, is_active=True, **units_filter)
        .distinct()
        .order_by("last_name", "first_name")
    )


def account_contacts(*, user: User) -> list[Contact]:
    """The people who issue this account's credentials and reactivate it.

    A principal: their huvudmän's contact persons. A test administrator: the
    principals of its school. A teacher: the principals of each of its
    schools. Admin-site accounts: the national administration (support).
    """
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
        appointment = (
            TestAdministrator.objects.filter(user=user).select_related("school_unit").first()
        )
        if appointment is None:
            return []
        return [
            Contact(
                name=principal.get_full_name(),
                organisation=appointment.school_unit.name,
                email=principal.email,
            )
            for principal in _principals_of(
                {"principal_assignments__school_unit": appointment.school_unit}
            )
        ]
    if user.role == Role.TEACHER:
        principals = Prefetch(
            "school_unit__principals",
            queryset=User.objects.filter(is_active=True).order_by("last_name", "first_name"),
        )
        memberships = (
            Membership.objects.live()
            # Not a school still waiting for the teacher's confirmation.
            .filter(user=user, confirmed_at__isnull=False)
            .select_related("school_unit")
            .prefetch_related(principals)
            .order_by("school_unit__name")
        )
        return [
            Contact(
                name=principal.get_full_name(),
                organisation=membership.school_unit.name,
                email=principal.email,
            )
            for membership in memberships
            for principal in membership.school_unit.principals.all()
        ]
    return [
        Contact(
            name=gettext("The national administration"),
            organisation=gettext("Behörighetsportalen"),
            email=settings.SUPPORT_EMAIL,
        )
    ]


def teacher_accounts_by_email(*, emails: Iterable[str]) -> dict[str, User]:
    """The teacher account a school's registration of each e-mail address links
    to, keyed in lower case, in one query.

    One person, one teacher account: an address already used by a teacher at
    any school is linked (pending the owner's confirmation), not given a
    second account. The rule of which accounts may be linked at all is
    `policy.linkable_teacher_accounts` (never a principal's own teacher
    account); when several share an address (older data), the oldest wins,
    everywhere the same.
    """
    accounts: dict[str, User] = {}
    # Newest first, so that the oldest account of an address is the one kept.
    for user in linkable_teacher_accounts(emails=emails).reverse():
        accounts[user.email_lower] = user
    return accounts
