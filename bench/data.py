"""Load a throwaway benchmark database: the cast, alone or inside national-scale data.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=… python -m bench.data national

Run by `bench.run` on a freshly migrated, empty database; prints the cast
(usernames, the shared password, the principal's card, the national admin's
TOTP key) as JSON on stdout.

Both scales hold the same cast, so a page shows the same rows in both:
a huvudman with school A (100 teachers) and school B (30 teachers), their
principal (one card), a teacher with memberships at both, two test
administrators at A, 1,000 audit events at A, the five demo items, and a
national admin. `national` adds the rest of the country around it: 5,000
school units in all, 150,000 teachers, 300,000 subject grants and 150,000
audit events. The cast's rows are scattered among the others (ids are given
in shuffled order), as a real school's rows would be after years of use.

Rows go in with COPY, ids chosen here; the ORM and the real services are
used only for the few things that must be made the real way (the card, the
TOTP key, the material files).
"""

import datetime
import json
import random
import sys
import time
from dataclasses import dataclass, field

import django

SCHOOLS = 5_000
HUVUDMAN_COUNT = 1_000
TEACHERS = 150_000
GRANTS = 300_000
EVENTS = 150_000

SCHOOL_A = "99000001"
SCHOOL_B = "99000002"
A_TEACHERS = 100
B_TEACHERS = 30
A_EVENTS = 1_000
B_EVENTS = 100
# Teachers of school A the login benchmark logs in with, one per client.
LOGIN_TEACHERS = 8
MATERIAL_SLUG = "matematik-ak9-np-2025"
TEACHER_SUBJECTS = ["GRGRMAT01", "GRGRENG01", "GRGRSVE01"]

# Names as str.split() of one line each: shorter to read than a list literal.
FIRST_NAMES = (  # noqa: SIM905
    "Anna Eva Maria Karin Sara Lena Emma Kerstin Ingrid Marie Malin Elin Linnea Johanna "
    "Lars Karl Erik Anders Johan Per Nils Mikael Jan Hans Peter Olof Gustav Oskar Ali Noah"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson "
    "Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson Magnusson "
    "Lindström Olofsson Lindqvist Lindgren Berg Axelsson Bergström Lundberg Lind Lundgren "
    "Lundqvist Mattsson Berglund Fredriksson Sandberg Henriksson Forsberg Sjöberg Ali Mohammed "
    "Åberg Öberg Ekström Holm Nyström Håkansson Engström Danielsson Sundberg Hassan Nordin"
).split()
ACTIONS = [
    "login_succeeded",
    "login_failed",
    "membership_registered",
    "membership_granted",
    "membership_reactivated",
    "password_regenerated",
    "logout",
]
USERNAME_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def username_for(number: int) -> str:
    """Eight letters of the username alphabet, distinct for distinct numbers.

    Multiplying by a number prime to 31⁸ permutes 0 … 31⁸ − 1, so the
    usernames look random (as generated ones do) and never collide.
    """
    value = (number * 2_654_435_761) % 31**8
    letters = []
    for _ in range(8):
        value, digit = divmod(value, 31)
        letters.append(USERNAME_ALPHABET[digit])
    return "".join(letters)


@dataclass
class Table:
    model: type
    columns: list[str]
    rows: list[tuple] = field(default_factory=list)


def copy_in(table: Table) -> None:
    """COPY the rows in. Fields the loader does not name get their model
    default, so that a new field with a default does not break the loader."""
    from django.db import connection

    if not table.rows:
        return
    named = set(table.columns)
    defaults = {
        field.column: field.get_db_prep_save(field.get_default(), connection)
        for field in table.model._meta.concrete_fields
        if field.attname not in named and field.column not in named and field.has_default()
    }
    name = connection.ops.quote_name(table.model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in [*table.columns, *defaults])
    extra = tuple(defaults.values())
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy,
    ):
        for row in table.rows:
            copy.write_row(row + extra)


def load(scale: str) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from accounts.services.cards import card_issue
    from accounts.services.staff import totp_enroll
    from accounts.usernames import generate_password
    from audit.context import AuditContext
    from audit.models import AuditEvent
    from demo.material import seed_material
    from permissions.models import Membership, Subject, SubjectGrant, TestAdministrator
    from permissions.schoolyear import school_year_end, school_year_start, today
    from schools.models import Huvudman, PrincipalAssignment, SchoolUnit

    national = scale == "national"
    rng = random.Random(11)
    now = timezone.now()
    day = today()
    valid = school_year_end(day)
    last_year = school_year_start(day) - datetime.timedelta(days=1)
    password = generate_password()
    # One hash for every account: one Argon2 run instead of 155,000.
    password_hash = make_password(password)
    grundskola_subjects = list(
        Subject.objects.filter(level="grundskola").values_list("pk", flat=True)
    )
    gymnasial_subjects = list(
        Subject.objects.filter(level="gymnasial").values_list("pk", flat=True)
    )
    subject_pk = dict(Subject.objects.values_list("code", "pk"))

    huvudmen = Table(
        Huvudman,
        ["id", "name", "organisationsnummer", "contact_name", "contact_email", "contact_phone"],
    )
    units = Table(SchoolUnit, ["id", "code", "name", "huvudman_id"])
    unit_forms = Table(SchoolUnit.forms.through, ["id", "schoolunit_id", "schoolform_id"])
    users = Table(
        User,
        [
            "id",
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "role",
        ],
    )
    assignments = Table(PrincipalAssignment, ["id", "school_unit_id", "user_id", "created_at"])
    memberships = Table(
        Membership, ["id", "user_id", "school_unit_id", "valid_until", "removed_at", "created_at"]
    )
    grants = Table(SubjectGrant, ["id", "membership_id", "subject_id", "granted_at"])
    test_admins = Table(
        TestAdministrator,
        ["id", "user_id", "school_unit_id", "valid_until", "deactivated_at", "created_at"],
    )
    events = Table(
        AuditEvent,
        [
            "id",
            "created_at",
            "action",
            "actor_id",
            "actor_username",
            "actor_role",
            "huvudman_id",
            "school_unit_id",
            "target",
            "ip_address",
            "details",
        ],
    )

    # --- Huvudmän and school units (the cast's first) -------------------------
    huvudman_count = HUVUDMAN_COUNT if national else 1
    for number in range(1, huvudman_count + 1):
        name = "Benchköpings kommun" if number == 1 else f"Huvudman {number}"
        huvudmen.rows.append(
            (
                number,
                name,
                f"{212000 + number:06d}-{number:04d}",
                "Kim Kontakt",
                "kontakt@h.example",
                "010-123 45 67",
            )
        )
    # (code, name, huvudman id, forms, level)
    school_specs = [
        (SCHOOL_A, "Benchskolan F–9", 1, ["grundskola"], "grundskola"),
        (SCHOOL_B, "Benchgymnasiet", 1, ["gymnasieskola"], "gymnasial"),
    ]
    if national:
        for number in range(3, SCHOOLS + 1):
            if number % 3:
                forms, level = ["grundskola"], "grundskola"
            else:
                forms, level = ["gymnasieskola", "introduktionsprogram"], "gymnasial"
            school_specs.append(
                (
                    f"{10_000_000 + number}",
                    f"Skola {number}",
                    rng.randint(1, huvudman_count),
                    forms,
                    level,
                )
            )
    school_ids = {}
    for school_id, (code, name, huvudman_id, forms, _level) in enumerate(school_specs, start=1):
        units.rows.append((school_id, code, name, huvudman_id))
        school_ids[code] = school_id
        for form in forms:
            unit_forms.rows.append((len(unit_forms.rows) + 1, school_id, form))
    level_of = {school_ids[spec[0]]: spec[4] for spec in school_specs}
    school_a, school_b = school_ids[SCHOOL_A], school_ids[SCHOOL_B]

    # --- People -------------------------------------------------------------
    def add_user(role: str, *, staff: bool = False) -> tuple[int, str]:
        user_id = len(users.rows) + 1
        username = username_for(user_id)
        users.rows.append(
            (
                user_id,
                password_hash,
                role == Role.NATIONAL_ADMIN,
                username,
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                f"{username}@skola.example",
                staff,
                True,
                now,
                role,
            )
        )
        return user_id, username

    principal_id, principal_username = add_user(Role.PRINCIPAL)
    admin_id, admin_username = add_user(Role.NATIONAL_ADMIN, staff=True)
    for school_id in (school_a, school_b):
        assignments.rows.append((len(assignments.rows) + 1, school_id, principal_id, now))

    # Teacher slots: (school id, in the cast). Shuffled, so that the ids of
    # the cast's rows are scattered through the tables.
    slots = [(school_a, True)] * A_TEACHERS + [(school_b, True)] * (B_TEACHERS - 1)
    if national:
        others = list(range(3, len(school_specs) + 1))
        slots += [(rng.choice(others), False) for _ in range(TEACHERS - len(slots))]
    rng.shuffle(slots)
    grant_budget = GRANTS if national else 2 * len(slots)
    teacher_username = ""
    login_usernames: list[str] = []
    cast_a_seen = 0
    pending_grants: list[tuple[int, int]] = []
    for school_id, in_cast in slots:
        user_id, username = add_user(Role.TEACHER)
        membership_id = len(memberships.rows) + 1
        kind = rng.random()
        expired = kind < 0.10
        removed = now if (not in_cast and kind > 0.98) else None
        memberships.rows.append(
            (
                membership_id,
                user_id,
                school_id,
                last_year if expired else valid,
                removed,
                now - datetime.timedelta(days=rng.randint(0, 2000)),
            )
        )
        if in_cast and school_id == school_a:
            cast_a_seen += 1
            if cast_a_seen == 1:
                teacher_username = username
                teacher_id = user_id
                # Active with the demo material's subjects, and also at school B.
                memberships.rows[-1] = (*memberships.rows[-1][:3], valid, None, now)
                for code in TEACHER_SUBJECTS:
                    pending_grants.append((membership_id, subject_pk[code]))
                b_membership = len(memberships.rows) + 1
                memberships.rows.append((b_membership, user_id, school_b, valid, None, now))
                pending_grants.append((b_membership, subject_pk["MAT"]))
                continue
            if cast_a_seen <= 1 + LOGIN_TEACHERS:
                login_usernames.append(username)
        pool = grundskola_subjects if level_of[school_id] == "grundskola" else gymnasial_subjects
        count = 0 if kind > 0.95 else rng.choice((1, 2, 2, 3))
        for subject_id in rng.sample(pool, count):
            pending_grants.append((membership_id, subject_id))
    # Trim or top up to exactly GRANTS grants (national), on filler memberships only.
    if national:
        cast_memberships = {row[0] for row in memberships.rows if row[2] in (school_a, school_b)}
        while len(pending_grants) > grant_budget:
            index = rng.randrange(len(pending_grants))
            if pending_grants[index][0] not in cast_memberships:
                pending_grants.pop(index)
        taken = set(pending_grants)
        while len(pending_grants) < grant_budget:
            membership_id = rng.randint(1, len(memberships.rows))
            if membership_id in cast_memberships:
                continue
            school_id = memberships.rows[membership_id - 1][2]
            pool = (
                grundskola_subjects if level_of[school_id] == "grundskola" else gymnasial_subjects
            )
            pair = (membership_id, rng.choice(pool))
            if pair not in taken:
                taken.add(pair)
                pending_grants.append(pair)
    pending_grants.sort()
    for number, (membership_id, subject_id) in enumerate(pending_grants, start=1):
        grants.rows.append((number, membership_id, subject_id, now))

    # Principals of the other schools, and test administrators.
    for school_id in range(3, len(school_specs) + 1):
        user_id, _username = add_user(Role.PRINCIPAL)
        assignments.rows.append((len(assignments.rows) + 1, school_id, user_id, now))
    admin_schools = [school_a, school_a] + [
        school_id for school_id in range(3, len(school_specs) + 1) if school_id % 3 == 0
    ]
    for index, school_id in enumerate(admin_schools):
        user_id, _username = add_user(Role.TEST_ADMIN)
        test_admins.rows.append(
            (
                len(test_admins.rows) + 1,
                user_id,
                school_id,
                last_year if index == 1 else valid,
                None,
                now,
            )
        )

    # --- Audit events, ids in time order ------------------------------------
    event_schools = [school_a] * A_EVENTS + [school_b] * B_EVENTS
    if national:
        event_schools += [
            rng.randint(3, len(school_specs)) for _ in range(EVENTS - len(event_schools))
        ]
    moments = sorted(
        now - datetime.timedelta(seconds=rng.randint(60, 365 * 24 * 3600)) for _ in event_schools
    )
    rng.shuffle(event_schools)
    huvudman_of = {row[0]: row[3] for row in units.rows}
    for number, (moment, school_id) in enumerate(zip(moments, event_schools, strict=True), 1):
        events.rows.append(
            (
                number,
                moment,
                rng.choice(ACTIONS),
                principal_id,
                principal_username,
                Role.PRINCIPAL,
                huvudman_of[school_id],
                school_id,
                username_for(rng.randint(1, len(users.rows))),
                f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                "{}",
            )
        )

    tables = [huvudmen, units, unit_forms, users, assignments, memberships, grants, test_admins]
    tables.append(events)
    with transaction.atomic():
        for table in tables:
            copy_in(table)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [table.model for table in tables]
            ):
                cursor.execute(statement)

    # The things made the real way: the principal's card, the admin's TOTP key,
    # the demo material with its files.
    with transaction.atomic():
        principal = User.objects.get(pk=principal_id)
        card = card_issue(user=principal, context=AuditContext())
        admin = User.objects.get(pk=admin_id)
        device = totp_enroll(user=admin, context=AuditContext())
        seed_material()

    counts = {
        "school_units": SchoolUnit.objects.count(),
        "teachers": User.objects.filter(role=Role.TEACHER).count(),
        "memberships": Membership.objects.count(),
        "subject_grants": SubjectGrant.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }
    return {
        "scale": scale,
        "counts": counts,
        "password": password,
        "principal": {"username": principal_username, "card": card.cells},
        "teacher": {"username": teacher_username, "id": teacher_id},
        "login_teachers": login_usernames,
        "national_admin": {"username": admin_username, "totp_key": device.key},
        "school_a": SCHOOL_A,
        "school_b": SCHOOL_B,
        "material": MATERIAL_SLUG,
    }


def analyze() -> None:
    """VACUUM ANALYZE: statistics for the planner (a freshly loaded table has
    none until autovacuum gets to it) and the visibility map for index-only
    scans."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def main() -> None:
    scale = sys.argv[1] if len(sys.argv) > 1 else "national"
    if scale not in {"national", "single"}:
        raise SystemExit("usage: python -m bench.data national|single")
    django.setup()
    started = time.perf_counter()
    cast = load(scale)
    loaded = time.perf_counter()
    analyze()
    cast["load_seconds"] = round(loaded - started, 1)
    cast["analyze_seconds"] = round(time.perf_counter() - loaded, 1)
    json.dump(cast, sys.stdout)


if __name__ == "__main__":
    main()
