"""Measure the CSV import of many teachers: time and SQL queries.

Runs in a transaction that is rolled back, so nothing stays in the database:
    python manage.py bench_import --rows 5000

Times the three requests a principal makes: the preview (read, plan, keep
the file, audit), the apply (import and seal the slips and report for
download: what the "Import" button waits for) and the slips download (one
PDF part of `SLIPS_PER_PDF` slips, as the page offers them).
"""

import json
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from audit.context import AuditContext
from permissions.imports.apply import csv_import_apply, csv_import_pickup_open, csv_import_preview
from permissions.imports.parse import decode_upload
from permissions.imports.plan import plan_import
from permissions.schoolyear import today
from permissions.slips import SLIPS_PER_PDF, Slip, render_slips
from schools.models import SchoolUnit


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time a CSV import of N teachers (rolled back) and count its SQL queries."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1000)
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, rows: int, as_json: bool, **options):
        day = today()
        text = "Förnamn;Efternamn;E-post;Ämnen\r\n" + "".join(
            f"Bench{i};Åkesson{i};bench{i}@bench.example;GRGRMAT01 GRGRSVE01\r\n"
            for i in range(rows)
        )
        data = text.encode("cp1252")
        result: dict = {"rows": rows, "bytes": len(data)}
        try:
            with transaction.atomic():
                school_unit = SchoolUnit.objects.order_by("pk").first()
                actor = User.objects.filter(role=Role.PRINCIPAL).first()
                if school_unit is None or actor is None:
                    self.stderr.write("No school unit or principal: run seed_demo first.")
                    return
                context = AuditContext(actor=actor, school_unit=school_unit)
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE")

                started = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    plan = plan_import(school_unit=school_unit, text=decode_upload(data))
                    token = csv_import_preview(
                        school_unit=school_unit,
                        context=context,
                        text=text,
                        plan=plan,
                        mode=plan.mode,
                    )
                result["preview_seconds"] = round(time.perf_counter() - started, 3)
                result["preview_queries"] = len(queries)
                assert plan.is_valid, [row.errors for row in plan.errors][:3]

                started = time.perf_counter()
                cpu = time.process_time()
                with CaptureQueriesContext(connection) as queries:
                    applied = csv_import_apply(
                        school_unit=school_unit, context=context, token=token, today=day
                    )
                    pickup, key = applied.pickup_id, applied.pickup_key
                    if connection.vendor == "postgresql":
                        # The foreign keys are checked at commit: count that too.
                        with connection.cursor() as cursor:
                            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                result["apply_seconds"] = round(time.perf_counter() - started, 3)
                # This process's CPU alone (not the database's): steadier on a busy machine.
                result["apply_cpu_seconds"] = round(time.process_time() - cpu, 3)
                result["apply_queries"] = len(queries)

                started = time.perf_counter()
                opened = json.loads(
                    csv_import_pickup_open(
                        school_unit=school_unit,
                        context=context,
                        pickup_id=pickup,
                        key=key,
                        what="slips",
                    )
                )
                pdf = render_slips(
                    [
                        Slip(**{**slip, "valid_until": day.fromisoformat(slip["valid_until"])})
                        for slip in opened["slips"][:SLIPS_PER_PDF]
                    ]
                )
                result["slips_pdf_seconds"] = round(time.perf_counter() - started, 3)
                result["slips_pdf_bytes"] = len(pdf)
                raise _Rollback
        except _Rollback:
            pass
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            for key_name, value in result.items():
                self.stdout.write(f"{key_name:>20}: {value}")
