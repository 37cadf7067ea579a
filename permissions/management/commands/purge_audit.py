"""Delete audit events older than AUDIT_RETENTION_YEARS (default 5).

Run it daily (cron, a systemd timer); it is the only way audit events are
ever deleted (README "Privacy").
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand

from permissions.retention import audit_purge


class Command(BaseCommand):
    help = "Delete audit events older than AUDIT_RETENTION_YEARS; the only path that may."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, as_json: bool, **options):
        years = settings.AUDIT_RETENTION_YEARS
        result = audit_purge(years=years)
        summary = {
            "deleted": result.deleted,
            "before": result.before.isoformat(),
            "retention_years": years,
        }
        if as_json:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(
                f"Deleted {result.deleted} audit events from before {result.before:%Y-%m-%d %H:%M} "
                f"(kept {years} years)."
            )
