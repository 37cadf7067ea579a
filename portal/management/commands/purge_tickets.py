"""Delete answered and closed support tickets older than
SUPPORT_TICKET_RETENTION_YEARS (default 2) after their last activity.

Run it daily beside `purge_audit` (docs/privacy.md).
"""

from audit.retention import PurgeCommand
from portal.services import support_tickets_purge


class Command(PurgeCommand):
    help = (
        "Delete answered and closed support tickets whose last activity is older than "
        "SUPPORT_TICKET_RETENTION_YEARS."
    )
    years_setting = "SUPPORT_TICKET_RETENTION_YEARS"
    summary = (
        "Deleted {deleted} answered or closed support tickets last active before {before} "
        "(kept {years} years)."
    )

    def purge(self, *, years):
        return support_tickets_purge(years=years)
