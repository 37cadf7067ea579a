"""Issue a principal from a script: what huvudman staff do in /huvudman/."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.context import AuditContext
from schools.models import SchoolUnit
from schools.services import IssuedPrincipal, principal_issue


class Command(BaseCommand):
    help = (
        "Issue a principal for a school unit: prints the username, the password "
        "and the matrix card once. Only hashes are stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--school", required=True, help="The unit's skolenhetskod.")
        parser.add_argument("--name", required=True, help="The principal's full name.")
        parser.add_argument("--email", required=True, help="The principal's e-mail address.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, school: str, name: str, email: str, as_json: bool, **options):
        school_unit = (
            SchoolUnit.objects.select_related("huvudman").filter(code=school.strip()).first()
        )
        if school_unit is None:
            raise CommandError(
                _("No school unit has the skolenhetskod %(code)s.") % {"code": school.strip()}
            )
        try:
            issued = principal_issue(
                context=AuditContext.system(), name=name, email=email, school_units=[school_unit]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        result = as_dict(issued)
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(describe(result, school_unit))


def as_dict(issued: IssuedPrincipal) -> dict:
    return {
        "username": issued.user.username,
        "password": issued.password,
        "card": {
            "serial": issued.card.serial,
            "issued_on": issued.card.issued_on.isoformat(),
            "cells": issued.card.cells,
        },
    }


def describe(result: dict, school_unit: SchoolUnit) -> str:
    cells = result["card"]["cells"]
    # In the site's language (Swedish), as every message of the product.
    lines = [
        _("Principal issued for %(school)s.") % {"school": school_unit},
        "  "
        + _("username %(username)s  password %(password)s")
        % {"username": result["username"], "password": result["password"]},
        "  "
        + _("matrix card %(serial)s, issued %(date)s:")
        % {"serial": result["card"]["serial"], "date": result["card"]["issued_on"]},
        "       " + "  ".join(f"{column:>2}" for column in "ABCDEFGH"),
    ]
    for row in range(1, 11):
        lines.append(f"    {row:>2} " + "  ".join(cells[f"{column}{row}"] for column in "ABCDEFGH"))
    lines.append(_("Shown once: hand these over now. Only hashes are stored."))
    return "\n".join(lines) + "\n"
