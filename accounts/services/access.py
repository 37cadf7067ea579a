"""Ending access: the one way an account's sessions end for good."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from accounts.models import User
from accounts.scopes import given_or_home_scope
from accounts.sessions import sessions_end_many
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_build
from audit.models import AuditEvent


@transaction.atomic
def access_end(
    *,
    users: Iterable[User],
    context: AuditContext,
    reason: str,
    keep_session_key: str = "",
    school_unit=None,
    huvudman=None,
) -> int:
    """End every session of these accounts, for good. Returns how many ended.

    Called by every service through which an account loses access:
    deactivation, removal, unlinking, a replaced password, card or
    authenticator app, a changed role (the list is in docs/security.md).

    SECURITY (ASVS 7.4.2): the account's session epoch is raised, which
    changes its session auth hash (`User._get_session_auth_hash`), so every
    session started before is refused from its next request on, on every
    app server, and stays refused after a reactivation or with the same
    password again. The session rows are deleted too. `keep_session_key`
    spares the session of a person who changed their own password (the
    caller stores its new hash with `update_session_auth_hash`).
    """
    users = [user for user in users if user is not None]
    if not users:
        return 0
    ids = [user.pk for user in users]
    User.objects.filter(pk__in=ids).update(session_epoch=F("session_epoch") + 1)
    epochs = dict(User.objects.filter(pk__in=ids).values_list("pk", "session_epoch"))
    for user in users:
        # The caller's objects carry the new hash too (update_session_auth_hash).
        user.session_epoch = epochs.get(user.pk, user.session_epoch)
    ended = sessions_end_many(user_ids=ids, keep_session_key=keep_session_key)
    AuditEvent.objects.bulk_create(
        [
            audit_build(
                action=AuditAction.SESSIONS_ENDED,
                context=context,
                target=user.username,
                details={"reason": reason, "sessions": ended.get(user.pk, 0)},
                **given_or_home_scope(user, school_unit=school_unit, huvudman=huvudman),
            )
            for user in users
        ]
    )
    return sum(ended.values())
