"""Subjects: the catalogue (/admin/), the access-policy table, and the
subjects a membership grants."""

import dataclasses
from collections.abc import Iterable, Sequence

from django.db import transaction

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_build, audit_record, field_changes
from audit.models import AuditEvent
from permissions.models import LevelPolicy, Membership, Subject, SubjectGrant


@transaction.atomic
def policy_rule_add(*, context: AuditContext, school_form, level: str) -> LevelPolicy:
    rule = LevelPolicy.objects.create(school_form=school_form, level=level)
    audit_record(
        action=AuditAction.POLICY_CHANGED,
        context=context,
        target=str(rule),
        details={"change": "added", "school_form": school_form.pk, "level": level},
    )
    return rule


@transaction.atomic
def policy_rule_remove(*, context: AuditContext, rule: LevelPolicy) -> None:
    details = {"change": "removed", "school_form": rule.school_form_id, "level": rule.level}
    target = str(rule)
    rule.delete()
    audit_record(
        action=AuditAction.POLICY_CHANGED,
        context=context,
        target=target,
        details=details,
    )


@transaction.atomic
def membership_grant(
    *,
    membership: Membership,
    subjects: Iterable[Subject],
    context: AuditContext,
) -> tuple[set[str], set[str]]:
    """Set the membership's subjects to exactly `subjects`. Returns the codes
    added and removed."""
    (result,) = memberships_grant(
        changes=[SubjectChange(membership=membership, subjects=list(subjects))], context=context
    )
    return result


@dataclasses.dataclass(frozen=True)
class SubjectChange:
    membership: Membership
    subjects: Sequence[Subject]
    csv_row: int | None = None


@transaction.atomic
def memberships_grant(
    *, changes: Sequence[SubjectChange], context: AuditContext
) -> list[tuple[set[str], set[str]]]:
    """Set each membership's subjects to exactly its `subjects`, in a constant
    number of queries; one audit event per membership that changed. Returns
    the codes added and removed, per change."""
    memberships = [change.membership for change in changes]
    current: dict[int, dict[int, tuple[int, str]]] = {}
    for grant_pk, membership_id, subject_id, code in SubjectGrant.objects.filter(
        membership__in=memberships
    ).values_list("pk", "membership_id", "subject_id", "subject__code"):
        current.setdefault(membership_id, {})[subject_id] = (grant_pk, code)
    stale: list[int] = []
    fresh: list[SubjectGrant] = []
    events: list[AuditEvent] = []
    results = []
    for change in changes:
        have = current.get(change.membership.pk, {})
        want = {subject.pk: subject for subject in change.subjects}
        added = [subject for pk, subject in want.items() if pk not in have]
        removed = [grant for pk, grant in have.items() if pk not in want]
        stale += [grant_pk for grant_pk, _code in removed]
        fresh += [SubjectGrant(membership=change.membership, subject=s) for s in added]
        added_codes = {subject.code for subject in added}
        removed_codes = {code for _pk, code in removed}
        results.append((added_codes, removed_codes))
        if added_codes or removed_codes:
            details = {"added": sorted(added_codes), "removed": sorted(removed_codes)}
            if change.csv_row is not None:
                details["csv_row"] = change.csv_row
            events.append(
                audit_build(
                    action=AuditAction.MEMBERSHIP_GRANTED,
                    context=context,
                    school_unit=change.membership.school_unit,
                    target=change.membership.user.username,
                    details=details,
                )
            )
    SubjectGrant.objects.filter(pk__in=stale).delete()
    SubjectGrant.objects.bulk_create(fresh)
    AuditEvent.objects.bulk_create(events)
    return results


SUBJECT_FIELDS = ("code", "name", "level")


@transaction.atomic
def subject_save(*, context: AuditContext, subject: Subject) -> Subject:
    created = subject.pk is None
    changes = field_changes(instance=subject, fields=SUBJECT_FIELDS)
    subject.save()
    audit_record(
        action=AuditAction.SUBJECT_CHANGED,
        context=context,
        target=subject.code,
        details={"change": "created" if created else "updated", "fields": changes},
    )
    return subject


@transaction.atomic
def subject_delete(*, context: AuditContext, subject: Subject) -> None:
    code = subject.code
    subject.delete()
    audit_record(
        action=AuditAction.SUBJECT_CHANGED,
        context=context,
        target=code,
        details={"change": "deleted"},
    )
