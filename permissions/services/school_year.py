"""The school year: reactivating memberships after 1 August, and the
new-school-year page's keep-or-remove in one act."""

import dataclasses
import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.services.access import access_end
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_build, audit_record
from audit.models import AuditEvent
from core.refusals import RefusalCode, Refused
from permissions.models import Membership
from permissions.policy import (
    can_remove_membership,
    reactivated_until,
    reactivation_is_open,
    school_memberships,
)
from permissions.services.removal import account_removed_event, accounts_remove
from schools.models import SchoolUnit


def refuse_unless_reactivation_open(*, valid_until: datetime.date, today: datetime.date):
    if not reactivation_is_open(valid_until=valid_until, today=today):
        raise Refused(RefusalCode.REACTIVATION_NOT_OPEN, date=valid_until)


@transaction.atomic
def membership_reactivate(
    *, membership: Membership, context: AuditContext, today: datetime.date
) -> Membership:
    refuse_unless_reactivation_open(valid_until=membership.valid_until, today=today)
    membership.valid_until = reactivated_until(today=today)
    membership.save(update_fields=["valid_until"])
    audit_record(
        action=AuditAction.MEMBERSHIP_REACTIVATED,
        context=context,
        school_unit=membership.school_unit,
        target=membership.user.username,
        details={"valid_until": membership.valid_until.isoformat()},
    )
    return membership


@transaction.atomic
def membership_reactivate_many(
    *,
    school_unit: SchoolUnit,
    membership_ids: Iterable[int],
    context: AuditContext,
    today: datetime.date,
) -> list[Membership]:
    """Reactivate many memberships of one school in a constant number of
    queries. Ids outside the school, removed or not yet reactivatable are
    left alone (the page only offers the reactivatable ones)."""
    candidates = list(
        school_memberships(school_unit=school_unit)
        .reactivatable(today)
        .filter(pk__in=list(membership_ids))
        .select_related("user", "school_unit")
        .select_for_update(of=("self",))
    )
    until = reactivated_until(today=today)
    Membership.objects.filter(pk__in=[m.pk for m in candidates]).update(valid_until=until)
    for membership in candidates:
        membership.valid_until = until
    AuditEvent.objects.bulk_create(
        [
            audit_build(
                action=AuditAction.MEMBERSHIP_REACTIVATED,
                context=context,
                school_unit=school_unit,
                target=membership.user.username,
                details={"valid_until": until.isoformat()},
            )
            for membership in candidates
        ]
    )
    return candidates


@dataclasses.dataclass(frozen=True)
class SchoolYearRenewal:
    kept: list[Membership]
    removed: int
    accounts_deleted: int


@transaction.atomic
def school_year_renew(
    *,
    school_unit: SchoolUnit,
    keep: Iterable[Membership],
    remove_rest: bool,
    context: AuditContext,
    today: datetime.date,
) -> SchoolYearRenewal:
    """The new-school-year page in one transaction: reactivate the kept
    memberships of last year and, when asked, remove the rest — all of it or
    nothing, in a constant number of queries whatever the count.

    Removal follows `membership_remove`: every session of the removed ends
    at once (ASVS 7.4.2), and a membership that was the account's last
    leaves the account removed ("borttagen") for 30 days, restorable here,
    then deleted with its personal data.
    """
    if remove_rest and not can_remove_membership(user=context.actor, school_unit=school_unit):
        raise Refused(RefusalCode.NOT_ALLOWED)
    keep_ids = [membership.pk for membership in keep]
    kept = membership_reactivate_many(
        school_unit=school_unit,
        membership_ids=keep_ids,
        context=context,
        today=today,
    )
    if not remove_rest:
        return SchoolYearRenewal(kept=kept, removed=0, accounts_deleted=0)
    removing = list(
        school_memberships(school_unit=school_unit)
        .reactivatable(today)
        .exclude(pk__in=keep_ids)
        .select_related("user")
        .select_for_update(of=("self",))
    )
    staying = Membership.objects.accounts_kept_besides(removing)
    deleting = [membership for membership in removing if membership.user_id not in staying]
    access_end(
        users=[membership.user for membership in removing],
        context=context,
        reason="removed",
        school_unit=school_unit,
    )
    now = timezone.now()
    Membership.objects.filter(pk__in=[membership.pk for membership in removing]).update(
        removed_at=now
    )
    # The last membership's accounts wait 30 days as removed, restorable
    # here, then `purge_removed_accounts` deletes them.
    accounts_remove(users=[membership.user for membership in deleting], now=now)
    events = [
        audit_build(
            action=AuditAction.MEMBERSHIP_REMOVED,
            context=context,
            school_unit=school_unit,
            target=membership.user.username,
            details={"account_removed": membership.user_id not in staying},
        )
        for membership in removing
    ] + [
        account_removed_event(
            user=membership.user, context=context, school_unit=school_unit, now=now
        )
        for membership in deleting
    ]
    AuditEvent.objects.bulk_create(events)
    return SchoolYearRenewal(kept=kept, removed=len(removing), accounts_deleted=len(deleting))
