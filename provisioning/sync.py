"""One sync of a source: pull (streamed into the mirror), plan the
proposals, apply those of schools that approve automatically, record the
status. All in one transaction under the source's advisory lock: at most one
sync per source at a time across app servers, and a fault anywhere leaves the
database as it was (only the source's status says what went wrong)."""

import dataclasses
import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.locks import advisory_try_lock
from core.refusals import Refused
from provisioning import mirror, planner
from provisioning.apply import proposals_apply, source_lock_key
from provisioning.client import Client, SourceError
from provisioning.models import Proposal, ProposalKind, SchoolSetting, Source
from provisioning.sources import client_for

# The incremental pull asks for changes since the last pull's start, less this
# much, in case the source's clock runs behind ours (re-reading is harmless).
CLOCK_MARGIN = datetime.timedelta(minutes=5)

TOTAL_KEYS = ("new_teachers", "linked_existing", "subject_grants", "proposed_removals", "ignored")


@dataclasses.dataclass
class SyncResult:
    source: Source
    schools: list[planner.SchoolReport]
    auto_applied: int = 0
    dry_run: bool = False

    def totals(self) -> dict:
        return {key: sum(getattr(r, key) for r in self.schools) for key in TOTAL_KEYS}

    def as_dict(self) -> dict:
        return {
            "huvudman": self.source.huvudman.organisationsnummer,
            "dry_run": self.dry_run,
            "schools": [report.as_dict() for report in self.schools],
            "totals": self.totals(),
            "auto_approved": self.auto_applied,
        }


def source_sync(
    *,
    source: Source,
    today: datetime.date,
    dry_run: bool = False,
    client: Client | None = None,
    now: datetime.datetime | None = None,
) -> SyncResult:
    """Sync `source`; SourceError (Swedish message) when it cannot be read or
    another sync of it is running. `dry_run` reports and changes nothing."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            result = _sync(source=source, today=today, client=client, now=now, dry_run=dry_run)
            if dry_run:
                transaction.set_rollback(True)
    except SourceError as error:
        if not dry_run:
            Source.objects.filter(pk=source.pk).update(
                last_error=error.message, last_attempt_at=now
            )
        raise
    source.refresh_from_db()
    return result


def _sync(*, source, today, client, now, dry_run) -> SyncResult:
    if not advisory_try_lock(source_lock_key(source.pk)):
        raise SourceError(_("A sync of this source is already running; try again later."))
    source = Source.objects.select_related("huvudman").get(pk=source.pk)
    client = client or client_for(source)
    since = source.synced_through - CLOCK_MARGIN if source.synced_through else None
    mirror.pull(source=source, client=client, since=since)
    reports = planner.plan(source=source, today=today)
    auto_applied = _auto_approve(source=source, today=today)
    planner.count_open(source=source, reports=reports)
    source.synced_through = now
    source.last_success_at = source.last_attempt_at = now
    source.last_error = ""
    source.sync_requested_at = None
    source.save(
        update_fields=["synced_through", "last_success_at", "last_attempt_at", "last_error"]
        + ["sync_requested_at"]
    )
    result = SyncResult(
        source=source,
        schools=sorted(reports.values(), key=lambda r: r.school),
        auto_applied=auto_applied,
        dry_run=dry_run,
    )
    audit_record(
        action=AuditAction.SS12000_SYNCED,
        context=AuditContext.system(),
        huvudman=source.huvudman,
        target=source.host,
        details={**result.totals(), "count": auto_applied},
    )
    return result


def _auto_approve(*, source: Source, today: datetime.date) -> int:
    """Apply the new teachers and subjects of schools that approve
    automatically; removals wait. A school whose set is refused (say, a
    teacher's codes for the hour are spent) keeps its proposals open."""
    applied = 0
    schools = SchoolSetting.objects.filter(
        auto_approve=True, school_unit__huvudman_id=source.huvudman_id
    ).select_related("school_unit")
    for setting in schools:
        ids = list(
            Proposal.objects.filter(source=source, school_unit=setting.school_unit)
            .exclude(kind=ProposalKind.REMOVAL)
            .values_list("pk", flat=True)
        )
        if not ids:
            continue
        try:
            result = proposals_apply(
                school_unit=setting.school_unit,
                proposal_ids=ids,
                context=AuditContext.system(),
                today=today,
                automatic=True,
            )
        except Refused:
            continue
        applied += result.total
    return applied


def sources_due(*, now: datetime.datetime) -> list[Source]:
    """The sources the worker runs now: "Synka nu" first, then those not
    synced (or tried) for a day."""
    day_ago = now - datetime.timedelta(hours=23)
    sources = Source.objects.select_related("huvudman").order_by("sync_requested_at", "pk")
    return [
        s
        for s in sources
        if s.sync_requested_at is not None
        or s.last_attempt_at is None
        or s.last_attempt_at < day_ago
    ]
