"""Idempotent demo data that always prints working credentials.

Each run issues the demo people fresh passwords (and TOTP key), so the
printout is always the current one; nothing is duplicated.
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import CARD_COLUMNS, CARD_ROWS, Role, User
from accounts.services.cards import card_issue
from accounts.services.staff import totp_enroll
from accounts.usernames import generate_password, generate_username
from audit.context import AuditContext
from demo.material import seed_material
from demo.schools import seed_schools
from permissions.models import Membership, Subject
from permissions.policy import reactivation_is_open
from permissions.schoolyear import today
from permissions.services.memberships import membership_register
from permissions.services.school_year import membership_reactivate
from permissions.services.subjects import membership_grant
from schools.models import PrincipalAssignment, SchoolFormCode

# Demo people are found again by e-mail; their usernames are generated like
# everyone else's, on the first run, and stay.
ADMIN_EMAIL = "skolverket-admin@demo.example"
STAFF_EMAIL = "huvudman@demo-kommun.example"
PRINCIPAL_EMAIL = "rektor@demo-kommun.example"
TEACHER_EMAIL = "larare@demo-kommun.example"
TEACHER_SUBJECTS = ["GRGRMAT01", "GRGRSVE01"]


class Command(BaseCommand):
    help = "Create or refresh the demo huvudman, schools and people, and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, as_json: bool, **options):
        with transaction.atomic():
            result = self.seed()
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(self.describe(result))

    def seed(self) -> dict:
        day = today()
        huvudman, units = seed_schools()
        grundskola = units[0]

        admin = _demo_user(
            ADMIN_EMAIL, Role.NATIONAL_ADMIN, "Ada", "Adminsson", is_staff=True, is_superuser=True
        )
        admin_password = _fresh_password(admin)
        admin_device = totp_enroll(user=admin, context=AuditContext.system())

        staff = _demo_user(
            STAFF_EMAIL,
            Role.HUVUDMAN_STAFF,
            "Hugo",
            "Huvudmansson",
            huvudman=huvudman,
            is_staff=True,
        )
        staff_password = _fresh_password(staff)
        device = totp_enroll(user=staff, context=AuditContext.system())

        principal = _demo_user(PRINCIPAL_EMAIL, Role.PRINCIPAL, "Rut", "Rektorsson")
        principal_password = _fresh_password(principal)
        for unit in units:
            PrincipalAssignment.objects.get_or_create(user=principal, school_unit=unit)
        # A fresh card every run, so the printout is always the current card.
        principal_card = card_issue(user=principal, context=AuditContext.system())

        membership = self.seed_teacher(principal=principal, school_unit=grundskola, day=day)
        teacher = membership.user
        teacher_password = _fresh_password(teacher)

        result = {
            "principal": {
                "username": principal.username,
                "password": principal_password,
                "card": {
                    "serial": principal_card.serial,
                    "issued_on": principal_card.issued_on.isoformat(),
                    "cells": principal_card.cells,
                },
            },
            "teacher": {
                "username": teacher.username,
                "password": teacher_password,
                "school": grundskola.code,
                "subjects": TEACHER_SUBJECTS,
            },
            "huvudman_staff": {
                "username": staff.username,
                "password": staff_password,
                "totp_uri": device.config_url,
            },
            "national_admin": {
                "username": admin.username,
                "password": admin_password,
                "totp_uri": admin_device.config_url,
            },
            "schools": [
                {
                    "code": unit.code,
                    "name": unit.name,
                    "forms": sorted(unit.forms.values_list("code", flat=True)),
                }
                for unit in units
            ],
        }
        result.update(self.seed_material())
        return result

    def seed_teacher(self, *, principal, school_unit, day) -> Membership:
        """The demo principal registers the demo teacher the way E-tjänster
        does (and on later runs grants the subjects and reactivates)."""
        as_principal = AuditContext(actor=principal, school_unit=school_unit)
        subjects = Subject.objects.filter(code__in=TEACHER_SUBJECTS)
        membership = (
            Membership.objects.live()
            .filter(user__email=TEACHER_EMAIL, user__role=Role.TEACHER, school_unit=school_unit)
            .select_related("user", "school_unit")
            .first()
        )
        if membership is None:
            return membership_register(
                school_unit=school_unit,
                context=as_principal,
                first_name="Lars",
                last_name="Lärarsson",
                email=TEACHER_EMAIL,
                subjects=subjects,
                today=day,
            ).membership
        membership_grant(membership=membership, subjects=subjects, context=as_principal)
        if reactivation_is_open(valid_until=membership.valid_until, today=day):
            membership_reactivate(membership=membership, context=as_principal, today=day)
        return membership

    def seed_material(self) -> dict:
        """Bedömningsportalen's demo items (demo/material.py)."""
        return {"material": seed_material()}

    def describe(self, result: dict) -> str:
        principal, teacher, staff = (
            result["principal"],
            result["teacher"],
            result["huvudman_staff"],
        )
        site = settings.SITE_URL
        lines = [
            "Demo data is ready. Log in as:",
            "",
            f"  Principal (E-tjänster, {site}/e-tjanster/logga-in/)",
            f"    username {principal['username']}  password {principal['password']}",
            f"    matrix card {principal['card']['serial']}:",
            *_card_grid(principal["card"]["cells"]),
            "",
            f"  Teacher (Bedömningsportalen, {site}/bedomningsportalen/logga-in/)",
            f"    username {teacher['username']}  password {teacher['password']}",
            f"    school {teacher['school']}, subjects {', '.join(teacher['subjects'])}",
            "",
            f"  Huvudman staff ({site}/huvudman/)",
            f"    username {staff['username']}  password {staff['password']}",
            f"    TOTP key (add to an authenticator app): {staff['totp_uri']}",
            "",
            f"  National admin ({site}/admin/)",
            f"    username {result['national_admin']['username']}"
            f"  password {result['national_admin']['password']}",
            f"    TOTP key: {result['national_admin']['totp_uri']}",
            "",
            "Schools: "
            + "; ".join(
                f"{s['code']} {s['name']} ({form_names(s['forms'])})" for s in result["schools"]
            ),
            "Material: "
            + "; ".join(
                f"{m['slug']} ({'protected' if m['protected'] else 'open'})"
                for m in result.get("material", [])
            ),
        ]
        return "\n".join(lines) + "\n"


def _demo_user(email: str, role: Role, first: str, last: str, **extra) -> User:
    user = User.objects.filter(email=email, role=role).first()
    if user is None:
        user = User.objects.create(
            username=generate_username(),
            email=email,
            role=role,
            first_name=first,
            last_name=last,
            **extra,
        )
    return user


def _fresh_password(user: User) -> str:
    password = generate_password()
    user.set_password(password)
    user.is_active = True
    user.save()
    return password


def _card_grid(cells: dict[str, str]) -> list[str]:
    lines = [("         " + "  ".join(f"{column:2}" for column in CARD_COLUMNS)).rstrip()]
    for row in CARD_ROWS:
        values = "  ".join(cells[f"{column}{row}"] for column in CARD_COLUMNS)
        lines.append(f"      {row:>2} {values}")
    return lines


def form_names(codes: list[str]) -> str:
    """School forms in words ("Kommunal vuxenutbildning"), not their codes."""
    return ", ".join(str(SchoolFormCode(code).label) for code in codes)
