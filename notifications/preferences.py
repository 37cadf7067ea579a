"""Each person's choice of the optional notices: read by the composers and the
scheduled run, shown and switched on the person's own account page."""

import dataclasses

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from accounts.scopes import home_scope
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from notifications.models import OPTIONAL_KINDS, NotificationKind, NotificationSetting

# The notices each role can get, in the order its account page lists them.
KINDS_BY_ROLE: dict[str, tuple[NotificationKind, ...]] = {
    Role.PRINCIPAL: (
        NotificationKind.LINK_ANSWERED,
        NotificationKind.WEEKLY_DIGEST,
        NotificationKind.CARD_LOCKED,
        NotificationKind.NEW_SCHOOL_YEAR,
    ),
    Role.TEST_ADMIN: (NotificationKind.LINK_ANSWERED, NotificationKind.WEEKLY_DIGEST),
    Role.HUVUDMAN_STAFF: (
        NotificationKind.UNIT_WITHOUT_PRINCIPAL,
        NotificationKind.CARD_LOCKED,
    ),
}


def wanting(users: QuerySet[User], *, kind: NotificationKind) -> QuerySet[User]:
    """Those of `users` who get `kind`: everyone for a notice that is not
    optional, else everyone who has not switched it off."""
    if kind not in OPTIONAL_KINDS:
        return users
    off = NotificationSetting.objects.filter(user=OuterRef("pk"), kind=kind, enabled=False)
    return users.exclude(Exists(off))


@dataclasses.dataclass(frozen=True)
class Choice:
    kind: NotificationKind
    optional: bool
    enabled: bool

    @property
    def label(self) -> str:
        return str(self.kind.label)


@dataclasses.dataclass(frozen=True)
class Choices:
    """A person's notices as their account page lists them."""

    optional: list[Choice]
    always: list[Choice]


def choices_for(*, user: User) -> Choices:
    """The notices this person can get and whether each is on (one query)."""
    kinds = KINDS_BY_ROLE.get(user.role, ())
    off = set(
        NotificationSetting.objects.filter(user=user, enabled=False).values_list("kind", flat=True)
    )
    choices = [
        Choice(kind=kind, optional=kind in OPTIONAL_KINDS, enabled=kind not in off)
        for kind in kinds
    ]
    return Choices(
        optional=[choice for choice in choices if choice.optional],
        always=[choice for choice in choices if not choice.optional],
    )


@transaction.atomic
def notification_settings_save(*, user: User, enabled: set[str], context: AuditContext) -> bool:
    """Switch this person's optional notices: those in `enabled` on, the
    rest off. Returns whether anything changed (then audited)."""
    optional = choices_for(user=user).optional
    changes = {
        choice.kind.value: choice.kind in enabled
        for choice in optional
        if (choice.kind in enabled) != choice.enabled
    }
    if not changes:
        return False
    now = timezone.now()
    for kind, on in changes.items():
        NotificationSetting.objects.update_or_create(
            user=user, kind=kind, defaults={"enabled": on, "changed_at": now}
        )
    audit_record(
        action=AuditAction.NOTIFICATIONS_CHANGED,
        context=context.acting(user),
        target=user.username,
        details={
            "on": sorted(kind for kind, on in changes.items() if on),
            "off": sorted(kind for kind, on in changes.items() if not on),
        },
        **home_scope(user),
    )
    return True
