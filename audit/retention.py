"""Retention of the audit log: events older than AUDIT_RETENTION_YEARS go.

`audit_purge` is the only path that deletes audit events. The ORM refuses
every delete (`AuditEvent.delete`, `AuditEventQuerySet.delete`), and on
PostgreSQL the trigger of migration 0004 refuses every DELETE unless the
transaction has set `behorighet.audit_purge_before`, and then only of rows
older than that moment, which must itself lie at least a year back. So no
code path, raw SQL included, can delete an event younger than a year, and
none deletes anything by accident.
"""

import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from audit.models import AuditEvent

# The trigger's floor (migration 0004) and AUDIT_RETENTION_YEARS' minimum.
MINIMUM_RETENTION_YEARS = 1
# Rows deleted per transaction: a first purge of a national log may meet
# millions of rows, and one huge transaction would hold its locks and WAL.
BATCH_SIZE = 10_000
PURGE_SETTING = "behorighet.audit_purge_before"


@dataclass(frozen=True)
class PurgeResult:
    """What a retention purge deleted: `deleted` rows from before `before`."""

    before: datetime.datetime
    deleted: int


class PurgeCommand(BaseCommand):
    """A daily retention command (`purge_audit`, `purge_tickets`): runs
    `purge(years=…)` with the setting `years_setting` and says what went,
    as a sentence or (`--json`) as {"deleted", "before", "retention_years"}."""

    years_setting: str
    # "Deleted {deleted} … before {before} (kept {years} years)."
    summary: str

    def purge(self, *, years: int) -> PurgeResult:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, as_json: bool, **options):
        years = getattr(settings, self.years_setting)
        result = self.purge(years=years)
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "deleted": result.deleted,
                        "before": result.before.isoformat(),
                        "retention_years": years,
                    }
                )
            )
        else:
            self.stdout.write(
                self.summary.format(
                    deleted=result.deleted, before=f"{result.before:%Y-%m-%d %H:%M}", years=years
                )
            )


def years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    """The same calendar moment `years` earlier; 29 February becomes the 28th."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def audit_purge(*, years: int, now: datetime.datetime | None = None) -> PurgeResult:
    """Delete audit events older than `years` years, and record that it was done."""
    if years < MINIMUM_RETENTION_YEARS:
        raise ValueError(f"Audit events are kept at least {MINIMUM_RETENTION_YEARS} year.")
    before = years_before(now or timezone.now(), years)
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            postgresql = connection.vendor == "postgresql"
            if postgresql:
                # SECURITY: transaction-local (the third argument), so the
                # permission ends with this batch's transaction at the latest.
                cursor.execute(
                    "SELECT set_config(%s, %s, true)", [PURGE_SETTING, before.isoformat()]
                )
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN "  # noqa: S608 (the table name is ours)
                f"(SELECT id FROM {table} WHERE created_at < %s ORDER BY id LIMIT %s)",
                [before, BATCH_SIZE],
            )
            batch = cursor.rowcount
            if postgresql:
                # And at once, should a caller's transaction enclose this one.
                cursor.execute("SELECT set_config(%s, '', true)", [PURGE_SETTING])
        deleted += batch
        if batch < BATCH_SIZE:
            break
    audit_record(
        action=AuditAction.AUDIT_PURGED,
        context=AuditContext.system(),
        details={"before": before.isoformat(), "deleted": deleted, "retention_years": years},
    )
    return PurgeResult(before=before, deleted=deleted)
