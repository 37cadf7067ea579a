"""Work on many teachers of one school at once (the ticked rows of the
teacher list): one subject granted or removed, slips sent again by e-mail.
Each in a constant number of queries however many are ticked."""

import dataclasses
from collections.abc import Sequence

from django.db import transaction

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from permissions.models import Membership, Subject, SubjectGrant
from permissions.services.subjects import SubjectChange, memberships_grant
from permissions.slips import Slip, slips_send_by_mail
from schools.models import SchoolUnit


@dataclasses.dataclass(frozen=True)
class SubjectBulkResult:
    changed: int  # memberships that gained (or lost) the subject
    unchanged: int  # those that already had it (or never had it)


@transaction.atomic
def memberships_subject_set(
    *,
    memberships: Sequence[Membership],
    subject: Subject,
    granted: bool,
    context: AuditContext,
) -> SubjectBulkResult:
    """Grant `subject` to each of `memberships` (or, with `granted` False,
    remove it), keeping their other subjects; one audit event per changed
    membership (`memberships_grant`). The memberships come with their user
    and school selected."""
    held: dict[int, list[Subject]] = {membership.pk: [] for membership in memberships}
    for grant in SubjectGrant.objects.filter(membership__in=memberships).select_related("subject"):
        held[grant.membership_id].append(grant.subject)
    changes = []
    for membership in memberships:
        subjects = held[membership.pk]
        has = any(held_subject.pk == subject.pk for held_subject in subjects)
        if has == granted:
            continue
        wanted = [*subjects, subject] if granted else [s for s in subjects if s.pk != subject.pk]
        changes.append(SubjectChange(membership=membership, subjects=wanted))
    if changes:
        memberships_grant(changes=changes, context=context)
    return SubjectBulkResult(changed=len(changes), unchanged=len(memberships) - len(changes))


@transaction.atomic
def slips_mail(
    *, school_unit: SchoolUnit, slips: Sequence[tuple[Slip, str]], context: AuditContext
) -> int:
    """Queue each (slip, address) in the outbox (the worker renders the PDF)
    and record one event naming the teachers. Slips carry no password."""
    count = slips_send_by_mail(slips=list(slips))
    # The count is the list's length; the names say who was sent one.
    audit_record(
        action=AuditAction.SLIPS_MAILED,
        context=context,
        school_unit=school_unit,
        target=school_unit.code,
        details={"teachers": sorted(slip.username for slip, _email in slips)},
    )
    return count
