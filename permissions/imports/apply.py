"""The CSV import's acts: the preview kept for "Import", the apply (the
file planned again, in one transaction), and the slips' pickup."""

import base64
import csv
import dataclasses
import datetime
import hashlib
import io
import json
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.refusals import RefusalCode, Refused
from core.sealed import SealBroken, seal, unseal
from permissions.imports.parse import ImportPlan, Outcome, PlannedRow, parse_rows, spreadsheet_safe
from permissions.imports.plan import plan_import
from permissions.models import ImportPickup, ImportPreview
from permissions.services.memberships import NewTeacher, memberships_register, serialize_by_email
from permissions.services.subjects import SubjectChange, memberships_grant
from permissions.slips import Slip
from schools.models import SchoolUnit


@dataclasses.dataclass(frozen=True)
class ImportedTeacher:
    row: PlannedRow
    username: str
    valid_until: datetime.date
    password: str | None


# A checked file waits this long for "Import"; the slips of an applied one
# this long for their download.
PREVIEW_LIFETIME = datetime.timedelta(hours=1)
PICKUP_LIFETIME = datetime.timedelta(hours=1)


@transaction.atomic
def csv_import_preview(
    *, school_unit: SchoolUnit, context: AuditContext, text: str, plan, mode: str
) -> str:
    """Keep a checked file for "Import" and record that it was previewed.

    Every preview is audited (it tells which addresses already have a
    teacher account). The person's earlier previews are deleted, so only the
    file shown last can be imported; an invalid file leaves none. Returns the
    token the preview page's form carries ("" for an invalid file).
    """
    actor_id = context.actor.pk
    ImportPreview.objects.filter(actor_id=actor_id).delete()
    ImportPreview.objects.filter(created_at__lt=timezone.now() - PREVIEW_LIFETIME).delete()
    token = ""
    if plan.is_valid:
        token = secrets.token_urlsafe(32)
        ImportPreview.objects.create(
            token=token, school_unit=school_unit, actor_id=actor_id, text=text, mode=mode
        )
    audit_record(
        action=AuditAction.IMPORT_PREVIEWED,
        context=context,
        school_unit=school_unit,
        target=school_unit.code,
        details={
            **plan.summary(),
            "mode": mode,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        },
    )
    return token


def csv_import_discard(*, context: AuditContext) -> None:
    """A file that could not even be read: no earlier preview survives it."""
    ImportPreview.objects.filter(actor_id=context.actor.pk).delete()


@dataclasses.dataclass(frozen=True)
class ImportResult:
    imported: list[ImportedTeacher]
    summary: dict
    # The sealed slips and report waiting for download, and the key to them
    # (for the result page only: never stored).
    pickup_id: int
    pickup_key: str
    # How many slips wait (rows linked to another school's account get none).
    slip_count: int = 0


@transaction.atomic
def csv_import_apply(
    *,
    school_unit: SchoolUnit,
    context: AuditContext,
    token: str,
    today: datetime.date,
) -> ImportResult:
    """Import the previewed file bound to `token`, all of it or nothing.

    Refused IMPORT_PREVIEW_STALE unless the token is this person's newest
    preview at this school and younger than an hour (it is used up here);
    IMPORT_HAS_ERRORS when re-planning inside this transaction finds errors.
    Built from the single-teacher services: new and linked teachers through
    `memberships_register`, subjects of those already here through
    `memberships_grant`, each in a constant number of queries.

    The slips (with the new passwords) and the report are sealed for
    download in the same transaction: the passwords exist nowhere else, so
    an import whose pickup cannot be stored creates no account either.
    """
    text, mode = _preview_take(school_unit=school_unit, context=context, token=token)
    serialize_by_email(*(row.email for row in parse_rows(text)))
    plan = plan_import(school_unit=school_unit, text=text, mode=mode)
    if not plan.is_valid:
        raise Refused(RefusalCode.IMPORT_HAS_ERRORS, count=len(plan.errors))
    password_of = _plan_write(plan=plan, school_unit=school_unit, context=context, today=today)
    summary = {**plan.summary(), "mode": mode}
    audit_record(
        action=AuditAction.TEACHERS_IMPORTED,
        context=context,
        school_unit=school_unit,
        target=school_unit.code,
        details=summary,
    )
    imported = [
        ImportedTeacher(
            row=row,
            # SECURITY: as in registration, a linked account's username is
            # not told to the school that linked it by e-mail.
            username="" if row.outcome == Outcome.LINKED else row.user.username,
            valid_until=row.membership.valid_until,
            password=password_of.get(row.user.pk),
        )
        for row in plan.rows
    ]
    slips = [
        {**dataclasses.asdict(slip), "valid_until": slip.valid_until.isoformat()}
        for slip in import_slips(imported, school_unit=school_unit)
    ]
    pickup_id, pickup_key = _import_pickup_store(
        school_unit=school_unit,
        context=context,
        content=json.dumps({"slips": slips, "report": import_report_csv(imported)}).encode(),
        rows=len(slips),
    )
    return ImportResult(
        imported=imported,
        summary=summary,
        pickup_id=pickup_id,
        pickup_key=pickup_key,
        slip_count=len(slips),
    )


def _preview_take(*, school_unit: SchoolUnit, context: AuditContext, token: str) -> tuple:
    """The text and mode of this person's fresh preview bound to `token`,
    used up here; refused IMPORT_PREVIEW_STALE without one."""
    preview = (
        ImportPreview.objects.select_for_update()
        .filter(
            token=token,
            school_unit=school_unit,
            actor_id=context.actor.pk,
            created_at__gte=timezone.now() - PREVIEW_LIFETIME,
        )
        .first()
    )
    if not token or preview is None:
        raise Refused(RefusalCode.IMPORT_PREVIEW_STALE)
    text, mode = preview.text, preview.mode
    preview.delete()
    return text, mode


def _plan_write(
    *, plan: ImportPlan, school_unit: SchoolUnit, context: AuditContext, today: datetime.date
) -> dict[int, str | None]:
    """Write a valid plan with the single-teacher services: new and linked
    teachers through `memberships_register`, subjects of those already here
    through `memberships_grant`. Fills each row's user and membership, and
    returns the new accounts' passwords by user id."""
    joining = [row for row in plan.rows if row.membership_added]
    registrations = memberships_register(
        school_unit=school_unit,
        context=context,
        teachers=[
            NewTeacher(
                first_name=row.first_name,
                last_name=row.last_name,
                email=row.email,
                subjects=row.target_subjects,
                csv_row=row.number,
            )
            for row in joining
        ],
        today=today,
        bulk_hash=True,
    )
    for row, registration in zip(joining, registrations, strict=True):
        row.user, row.membership = registration.user, registration.membership
    changing = [
        row
        for row in plan.rows
        if row.outcome == Outcome.UPDATED and (row.subjects_added or row.subjects_removed)
    ]
    memberships_grant(
        changes=[
            SubjectChange(
                membership=row.membership, subjects=row.target_subjects, csv_row=row.number
            )
            for row in changing
        ],
        context=context,
    )
    return {registration.user.pk: registration.password for registration in registrations}


def _import_pickup_store(
    *, school_unit: SchoolUnit, context: AuditContext, content: bytes, rows: int
) -> tuple[int, str]:
    """Seal an applied import's slips and report for download, in the apply's
    transaction; returns (pickup id, key). The key is for the result page
    only: never stored."""
    ImportPickup.objects.filter(created_at__lt=timezone.now() - PICKUP_LIFETIME).delete()
    key = secrets.token_bytes(32)
    pickup = ImportPickup.objects.create(
        school_unit=school_unit, actor_id=context.actor.pk, sealed=b"", rows=rows
    )
    pickup.sealed = seal(content, key=key, label=f"import-pickup:{pickup.pk}")
    pickup.save(update_fields=["sealed"])
    return pickup.pk, base64.urlsafe_b64encode(key).decode("ascii")


@transaction.atomic
def csv_import_pickup_open(
    *, school_unit: SchoolUnit, context: AuditContext, pickup_id: int, key: str, what: str
) -> bytes:
    """The sealed content of this person's pickup, or Refused IMPORT_PICKUP_GONE
    (gone, too old, someone else's, or a wrong key). The download is audited."""
    pickup = ImportPickup.objects.filter(
        pk=pickup_id,
        school_unit=school_unit,
        actor_id=context.actor.pk,
        created_at__gte=timezone.now() - PICKUP_LIFETIME,
    ).first()
    try:
        raw_key = base64.urlsafe_b64decode(key.encode("ascii"))
        if pickup is None or len(raw_key) != 32:
            raise Refused(RefusalCode.IMPORT_PICKUP_GONE)
        content = unseal(pickup.sealed, key=raw_key, label=f"import-pickup:{pickup.pk}")
    except (SealBroken, ValueError, UnicodeEncodeError):
        raise Refused(RefusalCode.IMPORT_PICKUP_GONE) from None
    if what == "slips":
        audit_record(
            action=AuditAction.IMPORT_SLIPS_DOWNLOADED,
            context=context,
            school_unit=school_unit,
            target=school_unit.code,
            details={"rows": pickup.rows},
        )
    return content


def import_report_csv(imported) -> str:
    """The report of an applied import (`ImportedTeacher`s), one row per file
    row, safe to open in a spreadsheet (no formulas)."""
    report = io.StringIO()
    writer = csv.writer(report, delimiter=";")
    writer.writerow(
        [_("Row"), _("First name"), _("Last name"), _("E-mail"), _("Username")]
        + [_("Outcome"), _("Subjects added"), _("Subjects kept"), _("Subjects removed")]
        + [_("Valid until")]
    )
    for item in imported:
        row = item.row
        cells = [row.number, row.first_name, row.last_name, row.email, item.username]
        cells += [row.outcome_label, " ".join(row.subjects_added), " ".join(row.subjects_kept)]
        cells += [" ".join(row.subjects_removed), item.valid_until.isoformat()]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return report.getvalue()


def import_slips(imported: Iterable[ImportedTeacher], *, school_unit: SchoolUnit) -> list[Slip]:
    """One slip per row of a CSV import; only new accounts' slips carry a
    password. A row linked to another school's account gets none: the link
    waits for its owner's confirmation (the code was mailed to them), and a
    slip saying "use the login you have" would tell them nothing of that."""
    return [
        Slip(
            name=f"{item.row.first_name} {item.row.last_name}",
            username=item.username,
            school_name=str(school_unit),
            valid_until=item.valid_until,
            password=item.password,
        )
        for item in imported
        if item.row.outcome != Outcome.LINKED
    ]
