"""The audit log as people read it: a page of events as rows with names and
usernames, Swedish labels (`audit.display`), times in Europe/Stockholm, and
the same rows as CSV.

Names are looked up when the log is read, never stored in it: a deleted
teacher's personal data is gone, and the log then shows the username alone,
marked as a deleted account. A school's own log names a teacher as the
school knows them (`permissions.policy.known_names`).
"""

import csv
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from audit.display import SUBJECT_LISTS, action_label, describe_details
from audit.models import AuditEvent
from core.prepared import InList, Prepared
from permissions.imports.parse import spreadsheet_safe
from permissions.models import Subject
from permissions.policy import (
    PEOPLE,
    known_name_scope,
    names_known_in,
    people_known_at_school,
)


def role_label(code: str) -> str:
    try:
        return str(Role(code).label)
    except ValueError:
        return code


def _subject_names(events: list[AuditEvent]) -> dict[str, str]:
    """The names of the subjects the events' details list, in one query (none
    without any)."""
    codes = {
        code
        for event in events
        if isinstance(event.details, dict)
        for key in SUBJECT_LISTS
        if isinstance(event.details.get(key), list)
        for code in event.details[key]
        if isinstance(code, str)
    }
    if not codes:
        return {}
    return {row["code"]: row["name"] for row in _SUBJECTS(codes=sorted(codes))}


class Person(NamedTuple):
    """An account as a log names it (`policy.PEOPLE`)."""

    pk: int
    username: str
    first_name: str
    last_name: str
    role: str

    def get_full_name(self) -> str:
        # As `AbstractUser.get_full_name`.
        return f"{self.first_name} {self.last_name}".strip()


# PERFORMANCE: a page's look-ups, compiled once (core.prepared); the lists
# of ids, usernames and codes are one parameter each.
_PEOPLE = Prepared(
    lambda ids, usernames: User.objects.filter(
        InList("pk", ids) | InList("username", usernames)
    ).values(*PEOPLE),
    ids=list[int],
    usernames=list[str],
)
_SUBJECTS = Prepared(
    lambda codes: Subject.objects.filter(InList("code", codes)).values("code", "name"),
    codes=list[str],
)


@dataclass(frozen=True)
class EventRow:
    # The event, or its columns as attributes (a log page reads values, not
    # model instances: `etjanster.views.log`).
    event: AuditEvent | SimpleNamespace
    time: datetime.datetime
    action: str
    actor: str
    actor_role: str
    target: str
    school: str
    details: str


def _person(user: Person | None, username: str, names: dict[int, str]) -> str:
    if not username:
        return ""
    if user is None:
        return _("%(username)s (deleted account)") % {"username": username}
    name = names.get(user.pk, user.get_full_name())
    return f"{name} ({user.username})" if name else user.username


def _ss12000_actor(source: str, person: str) -> str:
    """ "SS 12000 (källa …) godkänt av …": a change a person approved from a
    school system, or one the school's automatic approval made."""
    if person == "–":
        return _("SS 12000 (source %(source)s) approved automatically") % {"source": source}
    return _("SS 12000 (source %(source)s) approved by %(person)s") % {
        "source": source,
        "person": person,
    }


def event_rows(events: Iterable[AuditEvent], *, school_unit=None, huvudman=None) -> list[EventRow]:
    """Readable rows for a page of events: names found in one query (a
    school's log: `policy.people_known_at_school`; two for a huvudman's:
    `policy.names_known_in`), and the names of the subjects the details
    list in one more."""
    events = list(events)
    ids = sorted({event.actor_id for event in events if event.actor_id})
    usernames = sorted({event.target for event in events if event.target})
    if not events:
        users, names = [], {}
    elif school_unit is not None:
        found, names = people_known_at_school(
            school_unit_id=school_unit.pk, ids=ids, usernames=usernames
        )
        users = [Person(**person) for person in found]
    else:
        users = [Person(**row) for row in _PEOPLE(ids=ids, usernames=usernames)]
        scope = known_name_scope(school_unit=school_unit, huvudman=huvudman)
        names = names_known_in(scope=scope, users=users)
    subjects = _subject_names(events)
    by_id = {user.pk: user for user in users}
    by_username = {user.username: user for user in users}
    zone = timezone.get_current_timezone()
    # What a page repeats is worked out once: the labels of its few actions
    # and roles (each translated once), each person's and school's text, and
    # each distinct details' line.
    actions: dict[str, str] = {}
    roles: dict[str | None, str] = {"": "", None: ""}
    people: dict[tuple, str] = {}
    schools: dict[int | None, str] = {None: ""}
    described: dict[str, str] = {}
    rows = []
    for event in events:
        actor_key = (event.actor_id, event.actor_username)
        actor_text = people.get(actor_key)
        if actor_text is None:
            actor_text = people[actor_key] = (
                _person(by_id.get(event.actor_id), event.actor_username, names)
                if event.actor_username
                else "–"
            )
        if (event.details or {}).get("ss12000_source"):
            actor_text = _ss12000_actor(event.details["ss12000_source"], actor_text)
        target = event.target
        target_text = people.get(target)
        if target_text is None:
            target_text = people[target] = (
                _person(by_username[target], target, names) if target in by_username else target
            )
        school = schools.get(event.school_unit_id)
        if school is None:
            school = schools[event.school_unit_id] = str(event.school_unit)
        action = actions.get(event.action)
        if action is None:
            action = actions[event.action] = action_label(event.action)
        role = roles.get(event.actor_role)
        if role is None:
            role = roles[event.actor_role] = role_label(event.actor_role)
        rows.append(
            EventRow(
                event=event,
                time=timezone.localtime(event.created_at, zone),
                action=action,
                actor=actor_text,
                actor_role=role,
                target=target_text,
                school=school,
                details=_described(event.details, subjects, described),
            )
        )
    return rows


def _described(details, subjects: dict[str, str], seen: dict[str, str]) -> str:
    if not details:
        return describe_details(details, subjects)
    # The stored JSON, in its order (the line follows it): its repr tells
    # apart what JSON does (keys, order, types) and costs less than a dump.
    key = repr(details)
    if key not in seen:
        seen[key] = describe_details(details, subjects)
    return seen[key]


CSV_CHUNK = 2000


def events_csv(events, *, school_unit=None, huvudman=None) -> Iterable[str]:
    """A filtered log as CSV lines (`;`, UTF-8 with BOM, Excel-safe: no formulas).

    Streams in chunks of CSV_CHUNK events, one name look-up per chunk
    (`event_rows`; `school_unit` or `huvudman` for their own logs).
    """

    class Line:
        def write(self, value):
            return value

    writer = csv.writer(Line(), delimiter=";")
    yield "\ufeff" + writer.writerow(
        [
            _("Time"),
            _("Action"),
            _("By"),
            _("Role"),
            _("School unit"),
            _("Concerns"),
            _("From address"),
            _("Details"),
        ]
    )
    scope = {"school_unit": school_unit, "huvudman": huvudman}
    chunk: list[AuditEvent] = []
    for event in events.iterator(chunk_size=CSV_CHUNK):
        chunk.append(event)
        if len(chunk) >= CSV_CHUNK:
            yield from _csv_lines(writer, chunk, scope)
            chunk = []
    yield from _csv_lines(writer, chunk, scope)


def _csv_lines(writer, chunk, scope: dict) -> Iterable[str]:
    for row in event_rows(chunk, **scope):
        cells = [
            row.time.isoformat(timespec="seconds"),
            row.action,
            row.actor,
            row.actor_role,
            row.school,
            row.target,
            row.event.ip_address or "",
            row.details,
        ]
        yield writer.writerow([spreadsheet_safe(cell) for cell in cells])
