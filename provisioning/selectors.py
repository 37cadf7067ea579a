"""Reads the pages share: a school's open proposals, its source and its switch."""

import dataclasses

from provisioning.models import Proposal, ProposalKind, SchoolSetting, Source
from schools.models import SchoolUnit

# The order a school's proposals are listed in: new, linked, subjects, removals.
KIND_ORDER = {kind: index for index, kind in enumerate(ProposalKind.values)}


@dataclasses.dataclass(frozen=True)
class SchoolProposals:
    school_unit: SchoolUnit
    source: Source | None
    proposals: list[Proposal]
    auto_approve: bool


def school_proposals(*, school_unit: SchoolUnit) -> SchoolProposals:
    """The school's open proposals (new, linked, subjects, removals, each by
    name), its huvudman's source and the automatic approval: three queries."""
    proposals = sorted(
        Proposal.objects.filter(school_unit=school_unit).select_related("source"),
        key=lambda p: (KIND_ORDER[p.kind], p.last_name.lower(), p.first_name.lower(), p.pk),
    )
    source = Source.objects.filter(huvudman_id=school_unit.huvudman_id).first()
    setting = SchoolSetting.objects.filter(school_unit=school_unit).first()
    return SchoolProposals(
        school_unit=school_unit,
        source=source,
        proposals=proposals,
        auto_approve=bool(setting and setting.auto_approve),
    )


def open_proposals(*, school_unit: SchoolUnit) -> list[Proposal]:
    """For the handover: what waits for the principal (`str()` says what)."""
    return school_proposals(school_unit=school_unit).proposals
