"""Delete answered and closed support tickets older than
SUPPORT_TICKET_RETENTION_YEARS (default 2) after their last activity.

Run it daily beside `purge_audit` (README "Privacy").
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.services import support_tickets_purge


class Command(BaseCommand):
    help = (
        "Delete answered and closed support tickets whose last activity is older than "
        "SUPPORT_TICKET_RETENTION_YEARS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, as_json: bool, **options):
        years = settings.SUPPORT_TICKET_RETENTION_YEARS
        result = support_tickets_purge(years=years)
        summary = {
            "deleted": result.deleted,
            "before": result.before.isoformat(),
            "retention_years": years,
        }
        if as_json:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(
                f"Deleted {result.deleted} answered or closed support tickets last active before "
                f"{result.before:%Y-%m-%d %H:%M} (kept {years} years)."
            )
