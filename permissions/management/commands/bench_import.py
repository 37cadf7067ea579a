"""Measure the CSV import of many teachers: time and SQL queries.

Runs in a transaction that is rolled back, so nothing stays in the database:
    python manage.py bench_import --rows 1000
"""

import json
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from permissions.audit import AuditContext
from permissions.csv_import import decode_upload, plan_import
from permissions.schoolyear import today
from permissions.services import csv_import_apply
from permissions.slips import import_slips, render_slips
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
                if school_unit is None:
                    self.stderr.write("No school unit: run seed_demo first.")
                    return
                actor = User.objects.filter(role=Role.PRINCIPAL).first()

                started = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    plan = plan_import(school_unit=school_unit, text=decode_upload(data))
                result["preview_seconds"] = round(time.perf_counter() - started, 3)
                result["preview_queries"] = len(queries)
                assert plan.is_valid, [row.errors for row in plan.errors][:3]

                started = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    imported = csv_import_apply(
                        school_unit=school_unit,
                        context=AuditContext(actor=actor, school_unit=school_unit),
                        text=text,
                        today=day,
                    )
                result["apply_seconds"] = round(time.perf_counter() - started, 3)
                result["apply_queries"] = len(queries)

                started = time.perf_counter()
                pdf = render_slips(import_slips(imported, school_unit=school_unit))
                result["slips_pdf_seconds"] = round(time.perf_counter() - started, 3)
                result["slips_pdf_bytes"] = len(pdf)
                raise _Rollback
        except _Rollback:
            pass
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key:>20}: {value}")
