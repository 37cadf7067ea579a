"""What the source says should change at each school, written as proposals.

Pure comparison of the mirror with our memberships, in a constant number of
queries whatever the size of the huvudman, and idempotent: a proposal that
says what it said before is left as it was, one no longer wanted goes, and a
second run with nothing new at the source changes nothing.
"""

import dataclasses
import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import BooleanField, ExpressionWrapper, Q

from permissions.models import Membership, Subject, SubjectGrant
from permissions.selectors import teacher_accounts_by_email
from provisioning.models import (
    MirroredActivity,
    MirroredDuty,
    MirroredOrganisation,
    MirroredPerson,
    Proposal,
    ProposalKind,
    Source,
)
from schools.models import SchoolUnit


@dataclasses.dataclass
class SchoolReport:
    """One school's line of `ss12000_sync`: its open proposals after the sync."""

    school: str
    new_teachers: int = 0
    linked_existing: int = 0
    subject_grants: int = 0
    proposed_removals: int = 0
    ignored: int = 0
    unknown_subject_codes: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Wanted:
    """A teaching duty (or several) of one person at one school, as of today."""

    person_id: str
    school_unit_id: int
    codes: frozenset[str]


def _active_q(today: datetime.date) -> Q:
    return (
        Q(deleted=False)
        & (Q(start_date__isnull=True) | Q(start_date__lte=today))
        & (Q(end_date__isnull=True) | Q(end_date__gte=today))
    )


def _units(source: Source) -> dict[str, SchoolUnit]:
    """The source's organisation ids that are our school units, to the unit."""
    units = {u.code: u for u in SchoolUnit.objects.filter(huvudman_id=source.huvudman_id)}
    return {
        org_id: units[code]
        for org_id, code in MirroredOrganisation.objects.filter(source=source).values_list(
            "ext_id", "school_unit_code"
        )
        if code in units
    }


def _wanted(*, source: Source, units: dict, today: datetime.date, reports: dict):
    """(school, person) to the subject codes the source gives, for every
    active teaching duty; and every (school, person) that ever had one here."""
    duty_codes: dict[str, set[str]] = defaultdict(set)
    active: dict[str, tuple[str, int]] = {}
    ever: set[tuple[int, str]] = set()
    duties = MirroredDuty.objects.filter(source=source, organisation_id__in=list(units))
    duties = duties.annotate(
        is_active=ExpressionWrapper(_active_q(today), output_field=BooleanField())
    ).values_list("ext_id", "person_id", "organisation_id", "role", "is_active")
    for duty_id, person_id, org_id, role, is_active in duties.iterator(chunk_size=2000):
        unit = units[org_id]
        if role not in source.teaching_roles:
            if is_active:
                reports[unit.pk].ignored += 1
            continue
        ever.add((unit.pk, person_id))
        if is_active:
            active[duty_id] = (person_id, unit.pk)
    for subject_code, duty_ids in (
        MirroredActivity.objects.filter(source=source, deleted=False)
        .exclude(subject_code="")
        .values_list("subject_code", "duty_ids")
        .iterator(chunk_size=2000)
    ):
        for duty_id in duty_ids:
            if duty_id in active:
                duty_codes[duty_id].add(subject_code)
    wanted: dict[tuple[int, str], set[str]] = defaultdict(set)
    for duty_id, (person_id, unit_id) in active.items():
        wanted[(unit_id, person_id)] |= duty_codes.get(duty_id, set())
    return wanted, ever


def plan(*, source: Source, today: datetime.date) -> dict[int, SchoolReport]:
    """Write the source's proposals for each of the huvudman's matched
    schools; returns each school's report (by school unit id)."""
    units = _units(source)
    reports = {unit.pk: SchoolReport(school=unit.code) for unit in units.values()}
    wanted, ever = _wanted(source=source, units=units, today=today, reports=reports)
    persons = {
        person.ext_id: person
        for person in MirroredPerson.objects.filter(
            Q(ext_id__in={person_id for _u, person_id in ever}) | Q(user__isnull=False),
            source=source,
        ).select_related("user")
    }
    # Where the source's memberships are, also after a duty moved to another unit.
    ever |= {
        (unit_id, person.ext_id)
        for person in persons.values()
        for unit_id in person.linked_units
        if unit_id in reports
    }
    subjects = {s.code.upper(): s for s in Subject.objects.all()}
    accounts = teacher_accounts_by_email(
        emails=[p.email for p in persons.values() if p.user_id is None and p.email]
    )
    unit_ids = [unit.pk for unit in units.values()]
    members = {
        (m.school_unit_id, m.user_id): m
        for m in Membership.objects.live().filter(school_unit_id__in=unit_ids)
    }
    grants: dict[int, set[str]] = defaultdict(set)
    for membership_id, code in SubjectGrant.objects.filter(
        membership__school_unit_id__in=unit_ids, membership__removed_at__isnull=True
    ).values_list("membership_id", "subject__code"):
        grants[membership_id].add(code.upper())
    fresh: dict[tuple[int, int], Proposal] = {}
    addresses: set[tuple[int, str]] = set()
    for (unit_id, person_id), codes in sorted(wanted.items()):
        person = persons.get(person_id)
        address = (unit_id, person.email.lower()) if person is not None else None
        if (
            person is None
            or not (person.user_id or _valid_email(person.email))
            or (not person.user_id and address in addresses)
        ):
            # No (valid) school e-mail, or another person's at this school:
            # nobody to register (the registration takes each address once).
            reports[unit_id].ignored += 1
            continue
        addresses.add(address)
        user = person.user if person.user_id else accounts.get(person.email.lower())
        membership = members.get((unit_id, user.pk)) if user is not None else None
        proposal = _proposal(
            source=source,
            unit_id=unit_id,
            person=person,
            user=user,
            membership=membership,
            codes=codes,
            subjects=subjects,
            held=grants.get(membership.pk, set()) if membership else set(),
        )
        if proposal is not None:
            fresh[(unit_id, person.pk)] = proposal
    for unit_id, person_id in ever - set(wanted):
        person = persons.get(person_id)
        membership = members.get((unit_id, person.user_id)) if person and person.user_id else None
        if membership is not None:
            fresh[(unit_id, person.pk)] = Proposal(
                source=source,
                school_unit_id=unit_id,
                person=person,
                kind=ProposalKind.REMOVAL,
                user_id=membership.user_id,
                membership=membership,
                first_name=person.given_name,
                last_name=person.family_name,
                email=person.email,
            )
    _write(source=source, fresh=fresh)
    return reports


def count_open(*, source: Source, reports: dict[int, SchoolReport]) -> None:
    """Fill each school's report with its open proposals (after any automatic approval)."""
    for proposal in Proposal.objects.filter(source=source).only(
        "school_unit_id", "kind", "unknown_codes"
    ):
        if proposal.school_unit_id in reports:
            _count(reports[proposal.school_unit_id], proposal)


def _valid_email(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _proposal(*, source, unit_id, person, user, membership, codes, subjects, held):
    known = sorted(code for code in codes if code in subjects)
    unknown = sorted(code for code in codes if code not in subjects)
    common = {
        "source": source,
        "school_unit_id": unit_id,
        "person": person,
        "first_name": person.given_name,
        "last_name": person.family_name,
        # An account known by id keeps its own address (a renamed or
        # re-addressed person is the same person).
        "email": user.email if person.user_id and user is not None else person.email,
        "subjects": known,
        "unknown_codes": unknown,
    }
    if user is None:
        return Proposal(kind=ProposalKind.NEW, subjects_added=known, **common)
    if membership is None:
        return Proposal(kind=ProposalKind.LINKED, user=user, subjects_added=known, **common)
    added = sorted(set(known) - held)
    removed = sorted(held - set(known))
    if person.user_id is None:
        # Already here, registered by hand: tied to the source once approved.
        kind = ProposalKind.LINKED
    elif added or removed:
        kind = ProposalKind.SUBJECTS
    else:
        return None
    return Proposal(
        kind=kind,
        user=user,
        membership=membership,
        subjects_added=added,
        subjects_removed=removed,
        **common,
    )


def _write(*, source: Source, fresh: dict[tuple[int, int], Proposal]) -> None:
    """Make the source's open proposals exactly `fresh`, leaving alone those
    that already say the same (so a second run writes nothing)."""
    stale = []
    for old in Proposal.objects.filter(source=source):
        new = fresh.get((old.school_unit_id, old.person_id))
        if new is not None and new.signature() == old.signature():
            del fresh[(old.school_unit_id, old.person_id)]
            fresh[("kept", old.pk)] = old
        else:
            stale.append(old.pk)
    Proposal.objects.filter(pk__in=stale).delete()
    Proposal.objects.bulk_create([p for key, p in fresh.items() if key[0] != "kept"])


def _count(report: SchoolReport, proposal: Proposal) -> None:
    if proposal.kind == ProposalKind.NEW:
        report.new_teachers += 1
    elif proposal.kind == ProposalKind.LINKED:
        report.linked_existing += 1
    elif proposal.kind == ProposalKind.SUBJECTS:
        report.subject_grants += 1
    else:
        report.proposed_removals += 1
    report.unknown_subject_codes = sorted(
        set(report.unknown_subject_codes) | set(proposal.unknown_codes)
    )
