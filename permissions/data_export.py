"""A teacher's personal data as JSON (GDPR articles 15 and 20).

Two readers, two scopes (docs/privacy.md):
- the teacher, from the portal's account page: everything the service keeps
  about the account: the account, every membership (removed ones too) with
  its subjects, and every audit event by the teacher or about the account;
- a principal, on the teacher's request, from the teacher's page in
  E-tjänster: what that school already shows the principal: the account's
  names and e-mail, the membership at that school with its subjects, how
  many other schools the account has (a count, as the page shows; while
  the teacher has not confirmed the school, the name the school typed and
  no count: `permissions.policy.known_names`), and the
  school's own log entries about the teacher. Nothing of other schools:
  each school is answerable for its own processing, and the teacher gets the
  whole picture from their own export.

Never in either: the password hash, session keys, throttle rows.
"""

import datetime

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from audit.models import AuditEvent
from core.refusals import RefusalCode, Refused
from permissions.models import Membership, SubjectGrant
from permissions.policy import can_export_teacher_data, known_names
from schools.models import SchoolUnit

FORMAT_VERSION = 1


def _time(value: datetime.datetime | datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _account(user: User, *, full: bool) -> dict:
    account = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
    }
    if full:
        account.update(
            {
                "role": user.role,
                "is_active": user.is_active,
                "registered_at": _time(user.date_joined),
                "last_login": _time(user.last_login),
            }
        )
    return account


def _memberships(memberships: QuerySet[Membership]) -> list[dict]:
    memberships = memberships.select_related("school_unit").prefetch_related(
        Prefetch(
            "grants",
            queryset=SubjectGrant.objects.select_related("subject").order_by("subject__code"),
        )
    )
    return [
        {
            "school_unit": {"code": m.school_unit.code, "name": m.school_unit.name},
            "registered_at": _time(m.created_at),
            "valid_until": _time(m.valid_until),
            "removed_at": _time(m.removed_at),
            "subjects": [
                {
                    "code": grant.subject.code,
                    "name": grant.subject.name,
                    "granted_at": _time(grant.granted_at),
                }
                for grant in m.grants.all()
            ],
        }
        for m in memberships.order_by("created_at", "pk")
    ]


def _event(event: AuditEvent, *, show_actor: bool) -> dict:
    data = {
        "time": _time(event.created_at),
        "action": event.action,
        "school_unit": event.school_unit.code if event.school_unit_id else None,
        "actor_role": event.actor_role or None,
        "target": event.target,
        "details": event.details,
    }
    if show_actor:
        data["actor"] = event.actor_username or None
        data["address"] = event.ip_address
    return data


def teacher_data_for_self(*, teacher: User) -> dict:
    """Everything kept about the teacher's account, for the teacher.

    Events by others about the account (a principal granting subjects, a
    failed login typed with this username) leave out who and from which
    address: those are the other person's data. The role says who acted.
    """
    events = (
        AuditEvent.objects.filter(Q(actor_id=teacher.pk) | Q(target=teacher.username))
        .select_related("school_unit")
        .order_by("created_at", "pk")
    )
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": _time(timezone.now()),
        "scope": "self",
        "account": _account(teacher, full=True),
        "memberships": _memberships(Membership.objects.filter(user=teacher)),
        "audit_events": [
            _event(event, show_actor=event.actor_id == teacher.pk) for event in events
        ],
    }


def teacher_data_for_school(*, teacher: User, school_unit: SchoolUnit) -> dict:
    """What `school_unit` keeps about the teacher, for its principal.

    The events are those of the school's own log (which the principal reads
    in full at /e-tjanster/skolor/<kod>/logg/) that are by or about the teacher.
    """
    events = (
        AuditEvent.objects.filter(school_unit=school_unit)
        .filter(Q(actor_id=teacher.pk) | Q(target=teacher.username))
        .select_related("school_unit")
        .order_by("created_at", "pk")
    )
    account = _account(teacher, full=False)
    other_schools = (
        Membership.objects.confirmed().filter(user=teacher).exclude(school_unit=school_unit)
    )
    waiting = Membership.objects.pending().filter(user=teacher, school_unit=school_unit).first()
    if waiting is not None:
        # SECURITY: as on the teacher's page: until the owner confirms, the
        # school knows the name it typed and nothing about other schools.
        account["first_name"], account["last_name"] = known_names(membership=waiting)
        other_schools = None
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": _time(timezone.now()),
        "scope": "school_unit",
        "school_unit": {"code": school_unit.code, "name": school_unit.name},
        "account": account,
        "memberships": _memberships(
            Membership.objects.filter(user=teacher, school_unit=school_unit)
        ),
        "other_school_units": other_schools.count() if other_schools is not None else None,
        "audit_events": [_event(event, show_actor=True) for event in events],
    }


@transaction.atomic
def teacher_data_export(
    *, teacher: User, context: AuditContext, school_unit: SchoolUnit | None = None
) -> dict:
    """The export, recorded in the audit log in the same transaction.

    Without `school_unit` the teacher (the context's actor) exports their own
    data; with it, a principal of that school exports the school's data about
    the teacher. The view asks the policy first; this is the second line.
    """
    actor = context.actor
    if school_unit is None:
        if actor is None or actor.pk != teacher.pk:
            raise Refused(RefusalCode.NOT_ALLOWED)
        data = teacher_data_for_self(teacher=teacher)
    else:
        if actor is None or not can_export_teacher_data(user=actor, school_unit=school_unit):
            raise Refused(RefusalCode.NOT_ALLOWED)
        data = teacher_data_for_school(teacher=teacher, school_unit=school_unit)
    audit_record(
        action=AuditAction.DATA_EXPORTED,
        context=context,
        school_unit=school_unit,
        target=teacher.username,
        details={"scope": data["scope"]},
    )
    return data
