"""Create a national admin or huvudman staff member from a script: what a
national admin does at /admin/accounts/user/add/."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ADMIN_ROLES, Role
from accounts.services.staff import staff_create
from audit.context import AuditContext
from schools.models import Huvudman
from schools.validators import normalize_organisationsnummer


class Command(BaseCommand):
    help = (
        "Create a national admin or a huvudman staff member with a one-time password "
        "(printed once). At the first login the person enrols an authenticator app and "
        "chooses a password; nothing else opens before that."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--role", required=True, choices=sorted(role.value for role in ADMIN_ROLES)
        )
        parser.add_argument(
            "--huvudman",
            default="",
            help="Organisationsnummer of the staff member's huvudman (staff only).",
        )
        parser.add_argument("--first-name", required=True, dest="first_name")
        parser.add_argument("--last-name", required=True, dest="last_name")
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--username", default="", help="A chosen username; generated when left out."
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, role, huvudman, first_name, last_name, email, username, as_json, **_):
        organisation = None
        if huvudman:
            number = normalize_organisationsnummer(huvudman)
            organisation = Huvudman.objects.filter(organisationsnummer=number).first()
            if organisation is None:
                raise CommandError(f"No huvudman has the organisationsnummer {huvudman!r}.")
        try:
            issued = staff_create(
                context=AuditContext.system(),
                role=role,
                huvudman=organisation,
                first_name=first_name,
                last_name=last_name,
                email=email,
                username=username,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        result = {
            "username": issued.user.username,
            "password": issued.password,
            "role": issued.user.role,
            "huvudman": organisation.organisationsnummer if organisation else None,
            "one_time_password_valid_until": issued.onboarding_until.isoformat(),
            "login_url": "/huvudman/" if role == Role.HUVUDMAN_STAFF else "/admin/",
        }
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"Created {result['role']} {result['username']}; one-time password "
            f"{result['password']} (valid until {result['one_time_password_valid_until']}).\n"
            f"At the first login at {result['login_url']} the person enrols an authenticator "
            "app and chooses a password. Shown once: only a hash is stored.\n"
        )
