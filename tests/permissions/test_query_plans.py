"""The busy pages find their rows through indexes, not by reading whole tables.

PostgreSQL only (SQLite plans differently and is not production): a few
thousand memberships, subject grants and audit events around the cast of
tests/conftest.py, ANALYZE, then every SELECT the pages run is explained.
At national scale (150,000 memberships, 300,000 grants) a sequential scan of
one of these tables is what turns a 10 ms page into a 100 ms one, and a
freshly loaded table is planned with no statistics until ANALYZE runs.
"""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from audit.models import AuditEvent
from permissions.models import Membership, Subject, SubjectGrant
from schools.models import Huvudman, SchoolUnit
from tests.conftest import END_OF_YEAR, SCHOOL_DAY
from tests.fixtures.material import make_material

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="query plans are checked on PostgreSQL, which production runs (CI runs it)",
    ),
]

# The tables that grow with the country; none may be read whole by a page.
BIG_TABLES = ("permissions_membership", "permissions_subjectgrant", "permissions_auditevent")
OTHER_SCHOOLS = 300
TEACHERS_PER_SCHOOL = 10
EVENTS_PER_SCHOOL = 12


@pytest.fixture(autouse=True)
def school_day():
    moment = datetime.datetime.combine(SCHOOL_DAY, datetime.time(12), tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def country(principal, teacher, grundskola, gymnasium):
    """3,020 memberships, about 3,000 grants and 3,600 audit events in 300 more
    school units and the cast's own two; then ANALYZE. Small schools among
    many, as in the country: an index is worth using only when a school's
    rows are a small part of the table."""
    huvudman = Huvudman.objects.create(name="Landet", organisationsnummer="212000-0001")
    schools = SchoolUnit.objects.bulk_create(
        SchoolUnit(code=f"{50_000_000 + n}", name=f"Skola {n}", huvudman=huvudman)
        for n in range(OTHER_SCHOOLS)
    )
    schools += [grundskola, gymnasium]
    users = User.objects.bulk_create(
        User(username=f"land{n:05d}", role=Role.TEACHER, last_name=f"Efternamn{n % 97}")
        for n in range(len(schools) * TEACHERS_PER_SCHOOL)
    )
    memberships = Membership.objects.bulk_create(
        Membership(
            user=user,
            school_unit=schools[n % len(schools)],
            valid_until=END_OF_YEAR if n % 10 else datetime.date(2026, 7, 31),
        )
        for n, user in enumerate(users)
    )
    subjects = list(Subject.objects.order_by("pk")[:20])
    SubjectGrant.objects.bulk_create(
        SubjectGrant(membership=membership, subject=subjects[(n + k) % len(subjects)])
        for n, membership in enumerate(memberships)
        for k in range(n % 3)
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action="login_succeeded",
            school_unit=school,
            huvudman_id=school.huvudman_id,
            target=f"e{n}",
        )
        for school in schools
        for n in range(EVENTS_PER_SCHOOL)
    )
    with connection.cursor() as cursor:
        for table in BIG_TABLES + ("accounts_user", "schools_schoolunit"):
            cursor.execute(f"ANALYZE {table}")
    return schools


def sequential_scans(queries: list[dict]) -> dict[str, str]:
    """Each captured SELECT whose plan reads one of BIG_TABLES whole, with its plan."""
    found = {}
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            tables = [t for t in BIG_TABLES if re.search(rf"Seq Scan on {t}\b", plan)]
            if tables:
                # The plan itself, so that a failure says what to index.
                found[sql[:300]] = plan
    return found


def page_queries(client, path: str, status: int = 200) -> list[dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == status, path
    return captured.captured_queries


def test_the_school_pages_use_indexes(country, principal_client, grundskola):
    pages = [
        "/e-tjanster/",
        f"/e-tjanster/skolor/{grundskola.code}/larare/",
        f"/e-tjanster/skolor/{grundskola.code}/larare/?state=no_subjects",
        f"/e-tjanster/skolor/{grundskola.code}/logg/",
        f"/e-tjanster/skolor/{grundskola.code}/logg/?action=login_succeeded",
    ]
    for path in pages:
        assert sequential_scans(page_queries(principal_client, path)) == {}, path


def test_the_material_gate_uses_indexes(country, client, teacher):
    make_material("matte-prov", subject_code="GRGRMAT01")
    make_material("engelska-prov", subject_code="GRGRENG01")
    client.force_login(teacher)
    for path, status in [
        ("/bedomningsportalen/", 200),
        ("/bedomningsportalen/material/matte-prov/", 200),
        # Refused (no English granted): the refusal's own queries too.
        ("/bedomningsportalen/material/engelska-prov/", 403),
        ("/bedomningsportalen/konto/", 200),
    ]:
        assert sequential_scans(page_queries(client, path, status)) == {}, path


def test_the_check_finds_a_sequential_scan_when_there_is_one(country):
    # The test above would prove nothing if the plans were never read.
    with CaptureQueriesContext(connection) as captured:
        list(Membership.objects.filter(valid_until__lt=datetime.date(2026, 8, 1)))
    assert sequential_scans(captured.captured_queries)
