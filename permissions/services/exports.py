"""Copies taken of a log: audited like every other act."""

from django.db import transaction

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record


@transaction.atomic
def log_export_record(
    *, context: AuditContext, filters: dict, school_unit=None, huvudman=None
) -> None:
    """Somebody took a copy of (part of) the log: that is audited too."""
    audit_record(
        action=AuditAction.LOG_EXPORTED,
        context=context,
        school_unit=school_unit,
        huvudman=huvudman,
        target=school_unit.code if school_unit is not None else "",
        details={"filters": filters},
    )


@transaction.atomic
def report_export_record(*, context: AuditContext, report: str, rows: int, huvudman) -> None:
    """Huvudman staff took a copy of one of their reports (names, e-mails)."""
    audit_record(
        action=AuditAction.REPORT_EXPORTED,
        context=context,
        huvudman=huvudman,
        details={"report": report, "rows": rows},
    )


@transaction.atomic
def handover_print_record(*, context: AuditContext, school_unit) -> None:
    """A principal printed the school's handover (its teachers and log)."""
    audit_record(
        action=AuditAction.HANDOVER_PRINTED,
        context=context,
        school_unit=school_unit,
        target=school_unit.code,
    )
