"""Applying a school's approved proposals, through the permissions services
a principal's own acts use (registration, subjects, removal), so every rule
about linking, consent and removal holds here too. One transaction per set:
all of it or nothing."""

import dataclasses
import datetime
from collections.abc import Sequence

from django.db import transaction

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.locks import advisory_lock
from permissions.models import Subject
from permissions.services.memberships import NewTeacher, membership_remove, memberships_register
from permissions.services.subjects import SubjectChange, memberships_grant
from permissions.slips import Slip
from provisioning.mails import welcome_mails_enqueue
from provisioning.models import MirroredPerson, Proposal, ProposalKind, SchoolSetting
from schools.models import SchoolUnit


def source_lock_key(source_id: int) -> str:
    return f"ss12000-source:{source_id}"


@dataclasses.dataclass(frozen=True)
class Applied:
    registered: int = 0
    linked: int = 0
    subjects: int = 0
    removed: int = 0

    @property
    def total(self) -> int:
        return self.registered + self.linked + self.subjects + self.removed


@transaction.atomic
def proposals_apply(
    *,
    school_unit: SchoolUnit,
    proposal_ids: Sequence[int],
    context: AuditContext,
    today: datetime.date,
    automatic: bool = False,
) -> Applied:
    """Apply the school's proposals with these ids (others' ids are ignored).

    Every event names the source (`AuditContext.ss12000_source`): "SS 12000
    (källa …) godkänt av …" in the log, or "godkänt automatiskt" with
    `automatic` (never a removal: those always wait for a person). A new
    teacher's slip, with the password, is mailed to the school e-mail the
    source gave; an existing account at another school is linked only once
    its owner confirms (`memberships_register`).
    """
    chosen = Proposal.objects.filter(school_unit=school_unit, pk__in=list(proposal_ids))
    # The sources' locks first, as a sync takes them before it deletes
    # proposals (the other order deadlocks); it waits for a sync in progress,
    # so the set applies to what it planned.
    source_ids = chosen.order_by().values_list("source_id", flat=True).distinct()
    advisory_lock(*{source_lock_key(source_id) for source_id in source_ids})
    proposals = list(
        chosen.select_for_update(of=("self",))
        .select_related("source__huvudman", "person", "membership__user", "user")
        .order_by("pk")
    )
    if automatic:
        proposals = [p for p in proposals if p.kind != ProposalKind.REMOVAL]
    if not proposals:
        return Applied()
    source = proposals[0].source
    context = context.at(school_unit).through_ss12000(str(source))
    subjects = {s.code.upper(): s for s in Subject.objects.all()}
    registrations = _register(
        [p for p in proposals if p.membership_id is None],
        school_unit=school_unit,
        context=context,
        subjects=subjects,
        today=today,
    )
    changing = [
        p
        for p in proposals
        if p.kind in (ProposalKind.SUBJECTS, ProposalKind.LINKED) and p.membership_id
    ]
    for proposal in changing:
        _link(proposal.person, proposal.membership.user, school_unit)
    memberships_grant(
        changes=[
            SubjectChange(
                membership=p.membership, subjects=[subjects[c] for c in p.subjects if c in subjects]
            )
            for p in changing
            if p.subjects_added or p.subjects_removed
        ],
        context=context,
    )
    removals = [p for p in proposals if p.kind == ProposalKind.REMOVAL]
    for proposal in removals:
        _remove(proposal, school_unit=school_unit, context=context)
    Proposal.objects.filter(pk__in=[p.pk for p in proposals]).delete()
    return Applied(
        registered=sum(1 for r in registrations if r.password),
        linked=sum(1 for r in registrations if not r.password)
        + sum(1 for p in changing if p.kind == ProposalKind.LINKED),
        subjects=sum(1 for p in changing if p.kind == ProposalKind.SUBJECTS),
        removed=len(removals),
    )


def _register(joining, *, school_unit, context, subjects, today) -> list:
    """New and linked teachers through `memberships_register` (its rules on
    linking by e-mail and consent hold); a new account's slip is mailed."""
    registrations = memberships_register(
        school_unit=school_unit,
        context=context,
        teachers=[
            NewTeacher(
                first_name=p.first_name,
                last_name=p.last_name,
                email=p.email,
                subjects=[subjects[c] for c in p.subjects if c in subjects],
            )
            for p in joining
        ],
        today=today,
        bulk_hash=True,
    )
    for proposal, registration in zip(joining, registrations, strict=True):
        _link(proposal.person, registration.user, school_unit)
    welcome_mails_enqueue(
        slips=[
            (_slip(school_unit, registration), registration.user.email)
            for registration in registrations
            if registration.password
        ]
    )
    return registrations


def _remove(proposal: Proposal, *, school_unit: SchoolUnit, context: AuditContext) -> None:
    if proposal.membership.removed_at is None:  # not removed by hand meanwhile
        membership_remove(membership=proposal.membership, context=context)
    person = proposal.person
    person.linked_units = [u for u in person.linked_units if u != school_unit.pk]
    person.save(update_fields=["linked_units"])


def _link(person: MirroredPerson, user, school_unit: SchoolUnit) -> None:
    """The source's person is our account (by id from now on, whatever its name)."""
    person.user = user
    person.linked_units = sorted({*person.linked_units, school_unit.pk})
    person.save(update_fields=["user", "linked_units"])


def _slip(school_unit: SchoolUnit, registration) -> Slip:
    return Slip(
        name=registration.user.get_full_name(),
        username=registration.user.username,
        school_name=str(school_unit),
        valid_until=registration.membership.valid_until,
        password=registration.password,
    )


@transaction.atomic
def school_auto_approve_set(
    *, school_unit: SchoolUnit, enabled: bool, context: AuditContext
) -> bool:
    """Switch the school's "approve new teachers automatically"; True when it changed."""
    setting, _created = SchoolSetting.objects.select_for_update().get_or_create(
        school_unit=school_unit
    )
    if setting.auto_approve == enabled:
        return False
    setting.auto_approve = enabled
    setting.save(update_fields=["auto_approve"])
    audit_record(
        action=AuditAction.SS12000_AUTO_APPROVE_CHANGED,
        context=context,
        school_unit=school_unit,
        target=school_unit.code,
        details={"on": True} if enabled else {"off": True},
    )
    return True
