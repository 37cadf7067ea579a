"""Queue the scheduled notices that are due: the August reminder to
principals, the weekly summary, school units without an active principal.

Idempotent: run it hourly from a timer, on one server or several
(docs/notifications.md); a second run the same day mails nobody twice.
"""

import dataclasses
import json

from django.core.management.base import BaseCommand

from notifications.due import notify_due


class Command(BaseCommand):
    help = "Queue the scheduled notices that are due (idempotent; run it hourly)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, as_json: bool, **options):
        report = notify_due()
        if as_json:
            self.stdout.write(json.dumps(dataclasses.asdict(report)))
            return
        self.stdout.write(
            f"{report.date}: queued {report.new_school_year} August reminders, "
            f"{report.weekly_digest} weekly summaries and {report.unit_without_principal} "
            "notices of school units without a principal."
        )
