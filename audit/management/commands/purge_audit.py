"""Delete audit events older than AUDIT_RETENTION_YEARS (default 5).

Run it daily (cron, a systemd timer); it is the only way audit events are
ever deleted (docs/privacy.md).
"""

from audit.retention import PurgeCommand, audit_purge


class Command(PurgeCommand):
    help = "Delete audit events older than AUDIT_RETENTION_YEARS; the only path that may."
    years_setting = "AUDIT_RETENTION_YEARS"
    summary = "Deleted {deleted} audit events from before {before} (kept {years} years)."

    def purge(self, *, years):
        return audit_purge(years=years)
