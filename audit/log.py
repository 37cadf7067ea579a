"""The audit log: one place that writes events, called by every service.

Services call `audit_record` inside their own transaction, so an event exists
exactly when the change it describes was committed. Who acted and from where
reach them as an `AuditContext`, never as the HTTP request: services and this
writer know nothing of the web layer (`web.request.audit_context` builds
the context of a request, commands use `AuditContext.system()`).
"""

from django.db import models

from audit.actions import LOGIN_ACTIONS, NEVER_AT_A_SCHOOL, AuditAction
from audit.context import AuditContext
from audit.models import AuditEvent
from core import metrics


def audit_record(
    *,
    action: AuditAction,
    context: AuditContext,
    school_unit=None,
    huvudman=None,
    target: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction."""
    event = audit_build(
        action=action,
        context=context,
        school_unit=school_unit,
        huvudman=huvudman,
        target=target,
        details=details,
    )
    event.save()
    if event.action in LOGIN_ACTIONS:
        metrics.login_observed(action=event.action, details=event.details)
    return event


def audit_build(
    *,
    action: AuditAction,
    context: AuditContext,
    school_unit=None,
    huvudman=None,
    target: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """An unsaved event, for services that write many at once with
    `AuditEvent.objects.bulk_create` (CSV import, reactivate all).

    The event belongs to `school_unit` (and its huvudman), or to `huvudman`
    alone; given neither, to the context's school unit, if any. An action of
    NEVER_AT_A_SCHOOL never belongs to a school (a school's log filter
    relies on it): the context's unit is not taken, and naming one is a bug.
    """
    if AuditAction(action) in NEVER_AT_A_SCHOOL:
        if school_unit is not None:
            raise ValueError(f"{action} is never recorded at a school unit")
    elif school_unit is None and huvudman is None:
        school_unit = context.school_unit
    if huvudman is not None:
        huvudman_id = huvudman.pk
    else:
        huvudman_id = school_unit.huvudman_id if school_unit is not None else None
    if context.ss12000_source:
        details = {**(details or {}), "ss12000_source": context.ss12000_source}
    actor = context.actor
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent(
        action=AuditAction(action).value,
        actor_id=actor.pk if authenticated else None,
        actor_username=actor.get_username() if authenticated else "",
        actor_role=getattr(actor, "role", "") if authenticated else "",
        school_unit=school_unit,
        huvudman_id=huvudman_id,
        target=str(target)[:200],
        ip_address=context.address,
        details=details or {},
    )


def field_changes(*, instance: models.Model, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """What saving `instance` would change, field by field, as text for the log:
    {field: [before, after]}. Read from the database row before the save."""
    if instance.pk is None:
        return {}
    stored = type(instance)._default_manager.filter(pk=instance.pk).first()
    if stored is None:
        return {}
    changes = {}
    for name in fields:
        field = instance._meta.get_field(name)
        before, after = field.value_from_object(stored), field.value_from_object(instance)
        if str(before) != str(after):
            changes[name] = [str(before)[:200], str(after)[:200]]
    return changes
