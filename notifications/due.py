"""The scheduled notices, sent by `manage.py notify_due`: the August reminder,
the weekly summary, and school units left without a principal.

Safe to run every hour from a timer on several servers: each notice is
claimed by inserting its `NotificationSent` row (a unique key) in the
transaction that queues its mail, so a second run, the same day or at the
same moment on another server, mails nobody twice. Dates are in
Europe/Stockholm (TIME_ZONE). Each query is one for all schools, so a run
costs the same few queries however many schools there are, plus one mail
row a person told.
"""

import dataclasses
import datetime
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Role, User
from audit.actions import AuditAction
from audit.models import AuditEvent
from core.outbox import mail_enqueue
from notifications.mails import notice_mail, site_url
from notifications.models import NotificationKind, NotificationSent
from notifications.preferences import wanting
from permissions import policy
from permissions.models import Membership
from permissions.schoolyear import school_year_label, school_year_start
from schools.models import PrincipalAssignment, SchoolUnit

# The August reminder: the first from 1 August, the second from 15 August
# to principals of schools where nothing was done, none after August.
AUGUST = 8
SECOND_REMINDER_DAY = 15
# What a principal or test administrator does to last year's teachers.
SCHOOL_YEAR_ACTS = (AuditAction.MEMBERSHIP_REACTIVATED, AuditAction.MEMBERSHIP_REMOVED)
# What the weekly summary counts: changes of access at a school, not the
# everyday logins, downloads and log reads.
DIGEST_ACTIONS = (
    AuditAction.MEMBERSHIP_REGISTERED,
    AuditAction.MEMBERSHIP_CONFIRMED,
    AuditAction.MEMBERSHIP_DECLINED,
    AuditAction.MEMBERSHIP_GRANTED,
    AuditAction.MEMBERSHIP_REACTIVATED,
    AuditAction.MEMBERSHIP_REMOVED,
    AuditAction.MEMBERSHIP_RESTORED,
    AuditAction.ACCOUNT_REMOVED,
    AuditAction.ACCOUNT_RESTORED,
    AuditAction.PASSWORD_REGENERATED,
    AuditAction.CARD_LOCKED,
    AuditAction.CARD_UNLOCKED,
    AuditAction.CARD_REGENERATED,
    AuditAction.TEST_ADMIN_ISSUED,
    AuditAction.TEST_ADMIN_REACTIVATED,
    AuditAction.TEST_ADMIN_DEACTIVATED,
    AuditAction.PRINCIPAL_LINKED,
    AuditAction.PRINCIPAL_UNLINKED,
    AuditAction.SCHOOL_UNIT_CHANGED,
)


@dataclasses.dataclass
class DueReport:
    """Mails queued by one run, by kind (the command's --json keys)."""

    date: str = ""
    new_school_year: int = 0
    weekly_digest: int = 0
    unit_without_principal: int = 0


def notify_due(*, now: datetime.datetime | None = None) -> DueReport:
    """Queue every scheduled notice that is due and not yet sent."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    return DueReport(
        date=day.isoformat(),
        new_school_year=new_school_year_notify(day=day),
        weekly_digest=weekly_digest_notify(day=day),
        unit_without_principal=units_without_principal_notify(day=day),
    )


def _claimed(key: str, kind: NotificationKind) -> bool:
    """Claim one notice: True for the one run whose row this is.

    On PostgreSQL a second run's insert waits for the first's commit and
    then fails on the unique key, so at most one of them mails.
    """
    try:
        with transaction.atomic():
            NotificationSent.objects.create(key=key[:120], kind=kind)
    except IntegrityError:
        return False
    return True


def _already_sent(keys: list[str]) -> set[str]:
    return set(NotificationSent.objects.filter(key__in=keys).values_list("key", flat=True))


def _send_once(*, key: str, kind: NotificationKind, mail: dict | None) -> int:
    if mail is None:
        return 0
    with transaction.atomic():
        if not _claimed(key, kind):
            return 0
        mail_enqueue(**mail)
    return 1


# --- August: teachers waiting for reactivation --------------------------------


def new_school_year_notify(*, day: datetime.date) -> int:
    """On 1 August every principal whose schools have last year's teachers
    waiting gets their count and the new-school-year page; from 15 August
    again, for the schools where nobody has reactivated or removed any since
    1 August. Not optional: until the principal acts, those teachers are
    locked out of protected material."""
    if day.month != AUGUST:
        return 0
    stage = 1 if day.day < SECOND_REMINDER_DAY else 2
    start = school_year_start(day)
    waiting = dict(
        Membership.objects.reactivatable(day)
        .values("school_unit_id")
        .annotate(count=Count("pk"))
        .values_list("school_unit_id", "count")
    )
    if stage == 2 and waiting:
        since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
        acted = set(
            AuditEvent.objects.filter(
                school_unit_id__in=list(waiting), created_at__gte=since, action__in=SCHOOL_YEAR_ACTS
            ).values_list("school_unit_id", flat=True)
        )
        waiting = {unit: count for unit, count in waiting.items() if unit not in acted}
    if not waiting:
        return 0
    kind = NotificationKind.NEW_SCHOOL_YEAR
    assignments = (
        PrincipalAssignment.objects.filter(
            school_unit_id__in=list(waiting),
            user__in=wanting(policy.school_principals(school_unit_ids=list(waiting)), kind=kind),
        )
        .select_related("user", "school_unit")
        .order_by("user_id", "school_unit__name")
    )
    schools: dict[int, list] = defaultdict(list)
    principals: dict[int, User] = {}
    for assignment in assignments:
        principals[assignment.user_id] = assignment.user
        unit = assignment.school_unit
        schools[assignment.user_id].append(
            {
                "school_unit": unit,
                "count": waiting[unit.pk],
                "url": site_url("etjanster:new_school_year", unit.code),
            }
        )
    keys = {pk: f"{kind.value}:{stage}:{start.year}:{pk}" for pk in principals}
    sent = _already_sent(list(keys.values()))
    queued = 0
    for pk, principal in principals.items():
        if keys[pk] in sent:
            continue
        values = {
            "schools": schools[pk],
            "total": sum(row["count"] for row in schools[pk]),
            "second": stage == 2,
            "school_year": school_year_label(day),
        }
        mail = notice_mail(kind=kind, recipient=principal, values=values)
        queued += _send_once(key=keys[pk], kind=kind, mail=mail)
    return queued


# --- The weekly summary ---------------------------------------------------------


def _last_week(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime, str]:
    """The last whole week (Monday 00:00 to Monday 00:00, Stockholm) and its ISO name."""
    monday = day - datetime.timedelta(days=day.weekday())
    first = monday - datetime.timedelta(days=7)
    iso = first.isocalendar()

    def midnight(date):
        return timezone.make_aware(datetime.datetime.combine(date, datetime.time.min))

    return midnight(first), midnight(monday), f"{iso.year}-W{iso.week:02d}"


def weekly_digest_notify(*, day: datetime.date) -> int:
    """Each principal and test administrator who has not switched it off
    gets one mail a week with what changed at their schools in the last whole
    week, counted by kind of change; nobody gets one for a quiet week."""
    start, end, week = _last_week(day)
    changes: dict[int, list[tuple]] = defaultdict(list)
    for unit_id, action, count in (
        AuditEvent.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            school_unit_id__isnull=False,
            action__in=DIGEST_ACTIONS,
        )
        .values("school_unit_id", "action")
        .annotate(count=Count("pk"))
        .values_list("school_unit_id", "action", "count")
        .order_by("school_unit_id", "action")
    ):
        # The label stays lazy: it is read in the mail's language when rendered.
        changes[unit_id].append((AuditAction(action).label, count))
    if not changes:
        return 0
    kind = NotificationKind.WEEKLY_DIGEST
    recipients = list(
        wanting(
            policy.school_administrators(school_unit_ids=list(changes), today=day), kind=kind
        ).order_by("pk")
    )
    keys = {user.pk: f"{kind.value}:{week}:{user.pk}" for user in recipients}
    sent = _already_sent(list(keys.values()))
    recipients = [user for user in recipients if keys[user.pk] not in sent]
    administered = policy.units_administered(users=recipients, today=day)
    units = SchoolUnit.objects.in_bulk(list(changes))
    queued = 0
    for user in recipients:
        mine = sorted(
            (units[pk] for pk in administered[user.pk] if pk in changes), key=lambda u: u.name
        )
        if not mine:
            continue
        values = {
            "week": week,
            "start": timezone.localtime(start),
            "end": timezone.localtime(end) - datetime.timedelta(days=1),
            "schools": [
                {
                    "school_unit": unit,
                    "changes": changes[unit.pk],
                    "url": site_url("etjanster:audit_log", unit.code),
                }
                for unit in mine
            ],
        }
        mail = notice_mail(kind=kind, recipient=user, values=values)
        queued += _send_once(key=keys[user.pk], kind=kind, mail=mail)
    return queued


# --- School units without an active principal ---------------------------------


def units_without_principal_notify(*, day: datetime.date) -> int:
    """The huvudman's staff hear once of each unit that has no active
    principal (a new unit, the last principal deactivated or unlinked): one
    mail a person listing the units newly found. A unit that gets a
    principal again is forgotten, so losing one later is told again."""
    kind = NotificationKind.UNIT_WITHOUT_PRINCIPAL
    units = list(policy.units_without_active_principal().order_by("huvudman_id", "name"))
    keys = {unit.pk: f"{kind.value}:{unit.pk}" for unit in units}
    NotificationSent.objects.filter(kind=kind).exclude(key__in=list(keys.values())).delete()
    sent = _already_sent(list(keys.values()))
    new = [unit for unit in units if keys[unit.pk] not in sent]
    if not new:
        return 0
    by_huvudman: dict[int, list[SchoolUnit]] = defaultdict(list)
    for unit in new:
        by_huvudman[unit.huvudman_id].append(unit)
    staff = list(
        wanting(policy.huvudman_staff_members(huvudman_ids=list(by_huvudman)), kind=kind).order_by(
            "pk"
        )
    )
    queued = 0
    for huvudman_id, found in by_huvudman.items():
        with transaction.atomic():
            claimed = [unit for unit in found if _claimed(keys[unit.pk], kind)]
            if not claimed:
                continue
            values = {
                "school_units": claimed,
                "url": site_url("huvudman:reports"),
            }
            for member in staff:
                if member.huvudman_id != huvudman_id or member.role != Role.HUVUDMAN_STAFF:
                    continue
                mail = notice_mail(kind=kind, recipient=member, values=values)
                if mail is not None:
                    mail_enqueue(**mail)
                    queued += 1
    return queued
