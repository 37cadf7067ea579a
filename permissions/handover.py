"""A principal's handover ("Överlämning") of one school: everything a new
principal needs to take over, read in a constant number of queries however
many teachers the school has. The page and its PDF render the same
`Handover` (templates/etjanster/_handover.html)."""

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import User
from permissions import policy
from permissions.event_rows import EventRow, event_rows
from permissions.models import SubjectGrant
from permissions.policy import KNOWN_NAMES
from schools.models import SchoolUnit

# The log the handover shows: the school's last month.
LOG_DAYS = 30


@dataclass(frozen=True)
class HandoverTeacher:
    name: str
    username: str
    subjects: list[str]
    valid_until: datetime.date
    state: str  # a `policy.MembershipState`


@dataclass(frozen=True)
class HandoverTestAdmin:
    name: str
    username: str
    valid_until: datetime.date
    state: str  # see `policy.test_admin_state`


@dataclass(frozen=True)
class Handover:
    school_unit: SchoolUnit
    principals: list[User]
    teachers: list[HandoverTeacher]
    test_admins: list[HandoverTestAdmin]
    # Registrations of accounts other schools made, waiting for the teacher.
    pending: list[HandoverTeacher]
    # What ends when: (date, what, how many), soonest first.
    expiring: list[tuple[datetime.date, str, int]]
    proposals: list = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    since: datetime.datetime | None = None


# The SS 12000 proposals live in `provisioning`, above this layer: it hands
# its selector down at start-up (`ProvisioningConfig.ready`).
_proposals_provider: Callable[..., list] | None = None


def provide_proposals(provider: Callable[..., list]) -> None:
    global _proposals_provider  # noqa: PLW0603 (a slot filled once at start-up)
    _proposals_provider = provider


def handover_proposals(*, school_unit: SchoolUnit) -> list:
    """Open SS 12000 proposals of the school (new teachers, subjects, removals
    waiting for a person's approval); none without `provisioning` installed.
    Each item's `str()` says what is proposed."""
    if _proposals_provider is None:
        return []
    return _proposals_provider(school_unit=school_unit)


def handover_read(
    *, school_unit: SchoolUnit, today: datetime.date, now: datetime.datetime | None = None
) -> Handover:
    now = now or timezone.now()
    teachers, pending = _teachers(school_unit=school_unit, today=today)
    test_admins = _test_admins(school_unit=school_unit, today=today)
    since = now - datetime.timedelta(days=LOG_DAYS)
    events = (
        policy.school_events(school_unit=school_unit)
        .filter(created_at__gte=since)
        .select_related("school_unit")
        .order_by("-created_at", "-id")
    )
    return Handover(
        school_unit=school_unit,
        principals=list(
            school_unit.principals.filter(is_active=True).order_by("last_name", "first_name")
        ),
        teachers=teachers,
        test_admins=test_admins,
        pending=pending,
        expiring=_expiring(teachers, test_admins, today=today),
        proposals=handover_proposals(school_unit=school_unit),
        events=event_rows(list(events), school_unit=school_unit),
        since=since,
    )


def _teachers(
    *, school_unit: SchoolUnit, today: datetime.date
) -> tuple[list[HandoverTeacher], list[HandoverTeacher]]:
    """The school's live teachers by name (confirmed, then pending): two queries."""
    rows = list(
        policy.school_memberships(school_unit=school_unit)
        .order_by(KNOWN_NAMES["known_last_name"], KNOWN_NAMES["known_first_name"], "pk")
        .values_list("pk", "valid_until", "confirmed_at", "user__username", *KNOWN_NAMES.values())
    )
    subjects: dict[int, list[str]] = {row[0]: [] for row in rows}
    for membership_id, name in (
        SubjectGrant.objects.filter(membership_id__in=subjects)
        .order_by("subject__name")
        .values_list("membership_id", "subject__name")
    ):
        subjects[membership_id].append(name)
    confirmed, pending = [], []
    for pk, valid_until, confirmed_at, username, first_name, last_name in rows:
        teacher = HandoverTeacher(
            name=f"{first_name} {last_name}".strip(),
            username=username,
            subjects=subjects[pk],
            valid_until=valid_until,
            state=policy.membership_state(
                valid_until=valid_until,
                subject_count=len(subjects[pk]),
                today=today,
                pending=confirmed_at is None,
            ),
        )
        (pending if confirmed_at is None else confirmed).append(teacher)
    return confirmed, pending


def _test_admins(*, school_unit: SchoolUnit, today: datetime.date) -> list[HandoverTestAdmin]:
    return [
        HandoverTestAdmin(
            name=appointment.user.get_full_name(),
            username=appointment.user.username,
            valid_until=appointment.valid_until,
            state=policy.test_admin_state(appointment=appointment, today=today),
        )
        for appointment in policy.school_test_admins(school_unit=school_unit)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    ]


def _expiring(
    teachers: list[HandoverTeacher], test_admins: list[HandoverTestAdmin], *, today
) -> list[tuple[datetime.date, str, int]]:
    """How many memberships and test administrator appointments end on each
    date from today on (expired ones wait for reactivation: their state says so)."""
    ends = Counter(
        (teacher.valid_until, "teachers") for teacher in teachers if teacher.valid_until >= today
    )
    ends.update(
        (admin.valid_until, "test_admins")
        for admin in test_admins
        if admin.valid_until >= today and admin.state != "deactivated"
    )
    return sorted((date, what, count) for (date, what), count in ends.items())
