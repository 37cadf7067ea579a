"""Writes about permissions. Each is atomic and records its audit event."""

from django.db import transaction
from django.http import HttpRequest

from permissions.audit import AuditAction, audit_record
from permissions.models import LevelPolicy


@transaction.atomic
def policy_rule_add(*, actor, request: HttpRequest | None, school_form, level: str) -> LevelPolicy:
    rule = LevelPolicy.objects.create(school_form=school_form, level=level)
    audit_record(
        action=AuditAction.POLICY_CHANGED,
        actor=actor,
        request=request,
        target=str(rule),
        details={"change": "added", "school_form": school_form.pk, "level": level},
    )
    return rule


@transaction.atomic
def policy_rule_remove(*, actor, request: HttpRequest | None, rule: LevelPolicy) -> None:
    details = {"change": "removed", "school_form": rule.school_form_id, "level": rule.level}
    target = str(rule)
    rule.delete()
    audit_record(
        action=AuditAction.POLICY_CHANGED,
        actor=actor,
        request=request,
        target=target,
        details=details,
    )
