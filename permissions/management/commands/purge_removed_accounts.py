"""Delete for good the teacher accounts removed more than 30 days ago and not
restored ("borttagen": `permissions.services.removal`).

Run it daily beside `purge_audit` and `purge_tickets` (docs/privacy.md).
"""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from permissions.services.removal import removed_accounts_purge


class Command(BaseCommand):
    help = "Delete teacher accounts removed more than 30 days ago and not restored."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, as_json: bool, **options):
        result = removed_accounts_purge()
        before = timezone.localtime(result.before).isoformat(timespec="seconds")
        if as_json:
            self.stdout.write(json.dumps({"deleted": result.deleted, "before": before}))
        else:
            self.stdout.write(
                f"Deleted {result.deleted} teacher accounts removed before {before} "
                "and not restored."
            )
