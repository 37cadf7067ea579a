"""Sync SS 12000 sources: one huvudman's, or (without --huvudman) every
source that is due (asked for with "Synka nu", or not synced for a day).
Run it from a timer every few minutes beside `notify_due`; a source being
synced on another server is skipped.

Prints, per school unit, {"school", "new_teachers", "linked_existing",
"subject_grants", "proposed_removals", "ignored"} and the totals; `--dry-run`
changes nothing.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from permissions.schoolyear import today
from provisioning.client import SourceError
from provisioning.models import Source
from provisioning.sync import source_sync, sources_due


class Command(BaseCommand):
    help = "Pull SS 12000 sources and write the proposals their principals approve."

    def add_arguments(self, parser):
        parser.add_argument(
            "--huvudman", help="The organisationsnummer (default: every due source)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report only; change nothing.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print JSON.")

    def handle(self, *args, huvudman=None, dry_run=False, as_json=False, **options):
        if huvudman:
            source = Source.objects.filter(huvudman__organisationsnummer=huvudman).first()
            if source is None:
                raise CommandError(f"Huvudmannen {huvudman} har ingen SS 12000-källa.")
            sources = [source]
        else:
            sources = sources_due(now=timezone.now())
        results, failed = [], []
        for source in sources:
            try:
                results.append(source_sync(source=source, today=today(), dry_run=dry_run))
            except SourceError as error:
                failed.append(
                    {"huvudman": source.huvudman.organisationsnummer, "error": error.message}
                )
        if as_json:
            payload = [r.as_dict() for r in results] + failed
            self.stdout.write(
                json.dumps(payload[0] if huvudman and payload else payload, ensure_ascii=False)
            )
        else:
            for result in results:
                self._print(result)
            for failure in failed:
                self.stderr.write(f"{failure['huvudman']}: {failure['error']}")
        if huvudman and failed:
            raise CommandError(failed[0]["error"])

    def _print(self, result) -> None:
        head = "Provkörning (inget ändrades)" if result.dry_run else "Synkad"
        self.stdout.write(f"{head}: {result.source}")
        for report in result.schools:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        self.stdout.write(json.dumps({"totals": result.totals()}, ensure_ascii=False))
