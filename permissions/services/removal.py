"""A teacher account whose last membership is removed: "borttagen" for 30
days, so that its school can undo the removal, then deleted for good.

While removed the account opens nothing: it is inactive, every session it
had ended (`access_end`, by the removal), its login answers as for an
unknown username (`accounts.services.login`), no school can link it by
e-mail (`policy.linkable_teacher_accounts`), and its unused codes stop
working. Its personal data (name, e-mail, password hash, memberships and
subjects) is kept only for the undo: "Återställ" on the school's removed
teachers brings back the account with the membership and its subjects
(`memberships.membership_restore`). `manage.py purge_removed_accounts`,
run daily, deletes it after RESTORE_WINDOW (docs/privacy.md).
"""

import dataclasses
import datetime

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import User
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_build, audit_record
from audit.models import AuditEvent
from core.refusals import RefusalCode, Refused
from permissions.models import EmailCode, Membership
from permissions.policy import RESTORE_WINDOW, linkable_teacher_accounts
from schools.models import SchoolUnit

# Accounts deleted per transaction by the purge.
PURGE_BATCH = 500


def accounts_remove(*, users: list[User], now: datetime.datetime) -> None:
    """Mark these accounts removed ("borttagen"): inactive, their
    registrations still waiting at other schools withdrawn (they granted
    nothing), their unused codes expired. The caller has ended their
    sessions and removed the membership that was their last."""
    ids = [user.pk for user in users]
    User.objects.filter(pk__in=ids).update(is_active=False, removed_at=now)
    Membership.objects.pending().filter(user_id__in=ids).update(removed_at=now)
    EmailCode.objects.filter(user_id__in=ids, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    for user in users:
        user.is_active = False
        user.removed_at = now


def account_removed_event(
    *, user: User, context: AuditContext, school_unit: SchoolUnit, now: datetime.datetime
) -> AuditEvent:
    return audit_build(
        action=AuditAction.ACCOUNT_REMOVED,
        context=context,
        school_unit=school_unit,
        target=user.username,
        details={"delete_after": timezone.localdate(now + RESTORE_WINDOW).isoformat()},
    )


def account_restore(*, user: User, context: AuditContext, school_unit: SchoolUnit) -> None:
    """Bring a removed account back (the caller restores a membership with it).

    Refused ADDRESS_TAKEN when another teacher account has the address now
    (registered anew elsewhere meanwhile): one person, one account, and the
    school registers the teacher again, which links that account with the
    teacher's confirmation. Not asked for a principal's own teacher account,
    which is never found by its address (it shares the principal's).
    """
    own = user.etjanster_owner_id is not None
    if not own and linkable_teacher_accounts(emails=[user.email]).exclude(pk=user.pk).exists():
        raise Refused(RefusalCode.ADDRESS_TAKEN, email=user.email)
    user.is_active = True
    user.removed_at = None
    user.save(update_fields=["is_active", "removed_at"])
    audit_record(
        action=AuditAction.ACCOUNT_RESTORED,
        context=context,
        school_unit=school_unit,
        target=user.username,
    )


@dataclasses.dataclass(frozen=True)
class AccountsPurge:
    before: datetime.datetime
    deleted: int


def removed_accounts_purge(*, now: datetime.datetime | None = None) -> AccountsPurge:
    """Delete for good the accounts removed more than RESTORE_WINDOW ago, with
    their memberships, subjects, codes and settings (CASCADE). Each deletion
    is recorded at the school whose removal it completes."""
    before = (now or timezone.now()) - RESTORE_WINDOW
    deleted = 0
    while True:
        with transaction.atomic():
            last_school = (
                Membership.objects.filter(user=OuterRef("pk"), removed_at__isnull=False)
                .order_by("-removed_at", "-pk")
                .values("school_unit_id")[:1]
            )
            batch = list(
                User.objects.select_for_update(of=("self",))
                .filter(removed_at__lt=before)
                .annotate(last_school_id=Subquery(last_school))
                .order_by("pk")[:PURGE_BATCH]
            )
            if not batch:
                break
            units = SchoolUnit.objects.in_bulk({user.last_school_id for user in batch} - {None})
            AuditEvent.objects.bulk_create(
                [
                    audit_build(
                        action=AuditAction.ACCOUNT_DELETED,
                        context=AuditContext.system(),
                        school_unit=units.get(user.last_school_id),
                        target=user.username,
                        details={"reason": "removal_not_undone"},
                    )
                    for user in batch
                ]
            )
            User.objects.filter(pk__in=[user.pk for user in batch]).delete()
            deleted += len(batch)
    return AccountsPurge(before=before, deleted=deleted)
