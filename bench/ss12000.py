"""The SS 12000 sync of a large huvudman: time and peak memory.

    python -m bench.ss12000            (DATABASE_URL: PostgreSQL; unset: SQLite)

Generates a huvudman of 50 school units, 5,000 teachers (and as many pupils,
read past and never stored), 5,000 duties and 20,000 activities; serves it
from the test SS 12000 server (`tests/ss12000_server.py`, a process of its
own, 500 items a page); syncs it into a throwaway test database (created and
dropped here) and prints, as JSON: the first sync's seconds, a second sync's
(nothing new: idempotent), and the peak of Python's allocations during a full
pull (tracemalloc). Not part of the test suite.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS, TEACHERS, ACTIVITIES = 50, 5_000, 20_000
CODES = ["GRGRMAT01", "GRGRSVE01", "GRGRENG01", "GRGRBIO01", "GRGRHIS01", "XXOKAND01"]
# The test server's bearer token (tests/ss12000_server.py).
TEST_SERVER_TOKEN = "test-token"  # noqa: S105 (a test server's)
META = {"created": "2026-08-01T08:00:00+00:00", "modified": "2026-08-01T08:00:00+00:00"}


def dataset() -> dict:
    units = [f"{90_000_000 + n}" for n in range(UNITS)]
    persons, duties, activities = [], [], []
    for n in range(TEACHERS):
        persons.append(
            {
                "id": f"p{n}",
                "givenName": f"Lärare{n}",
                "familyName": "Bench",
                "civicNo": {"value": "197001011234"},
                "emails": [{"value": f"larare{n}@bench.example", "type": "Skola personal"}],
                "meta": META,
            }
        )
        persons.append({"id": f"e{n}", "givenName": "Elev", "familyName": f"{n}", "meta": META})
        duties.append(
            {
                "id": f"d{n}",
                "person": {"id": f"p{n}"},
                "dutyAt": {"id": f"o{n % UNITS}"},
                "dutyRole": "Lärare",
                "startDate": "2026-08-01",
                "meta": META,
            }
        )
    for n in range(ACTIVITIES):
        activities.append(
            {
                "id": f"a{n}",
                "displayName": f"Grupp {n}",
                "organisation": {"id": f"o{(n // 4) % UNITS}"},
                "teachers": [{"duty": {"id": f"d{(n // 4) % TEACHERS}"}}],
                "syllabus": {"subjectCode": CODES[n % len(CODES)]},
                "meta": META,
            }
        )
    organisations = [
        {"id": f"o{n}", "displayName": f"Skola {n}", "schoolUnitCode": code, "meta": META}
        for n, code in enumerate(units)
    ]
    return {
        "organisations": organisations,
        "persons": persons,
        "duties": duties,
        "activities": activities,
        "syllabuses": [],
        "deleted": {},
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    data = dataset()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dataset.json"
        path.write_text(json.dumps(data))
        server = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [sys.executable, "-m", "tests.ss12000_server", "--dataset", str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{int(server.stdout.readline().split()[1])}"
            setup_test_environment()
            name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
            try:
                print(
                    json.dumps(_measure(url, [o["schoolUnitCode"] for o in data["organisations"]]))
                )
            finally:
                connection.creation.destroy_test_db(name, verbosity=0)
        finally:
            server.terminate()
            server.wait(timeout=10)


def _measure(url: str, codes: list[str]) -> dict:
    from audit.context import AuditContext
    from permissions.schoolyear import today
    from provisioning.models import MirroredActivity, Proposal, Source
    from provisioning.sources import source_save
    from provisioning.sync import source_sync
    from schools.models import Huvudman, SchoolUnit

    huvudman = Huvudman.objects.create(name="Benchkommun", organisationsnummer="212000-9999")
    SchoolUnit.objects.bulk_create(
        [SchoolUnit(code=code, name=f"Skola {code}", huvudman=huvudman) for code in codes]
    )
    source, _seen = source_save(
        huvudman=huvudman,
        context=AuditContext.system(),
        base_url=url,
        token=TEST_SERVER_TOKEN,
        check=False,
    )
    day = today()
    started = time.perf_counter()
    first = source_sync(source=source, today=day)
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    second = source_sync(source=source, today=day)
    second_seconds = time.perf_counter() - started
    # A full pull again (as after a changed address), measured for memory, rolled back.
    Source.objects.filter(pk=source.pk).update(synced_through=None)
    source.refresh_from_db()
    tracemalloc.start()
    source_sync(source=source, today=day, dry_run=True)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "teachers": TEACHERS,
        "activities": ACTIVITIES,
        "activities_stored": MirroredActivity.objects.count(),
        "proposals": Proposal.objects.count(),
        "first_sync_seconds": round(first_seconds, 2),
        "first_sync_new_teachers": first.totals()["new_teachers"],
        "second_sync_seconds": round(second_seconds, 2),
        "second_sync_changes": second.totals()["new_teachers"] - first.totals()["new_teachers"],
        "full_pull_peak_python_mib": round(peak / 2**20, 1),
    }


if __name__ == "__main__":
    main()
