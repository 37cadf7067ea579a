"""Passwords: a new generated one from the role above, and one's own change."""

from django.db import transaction

from accounts.doors import Door
from accounts.models import User
from accounts.scopes import home_scope
from accounts.services.access import access_end
from accounts.services.login import CheckOutcome, PasswordCheck, password_check
from accounts.usernames import generate_password
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record


@transaction.atomic
def password_regenerate(*, user: User, context: AuditContext, school_unit=None) -> str:
    """Give the user a new generated password, shown once.

    The old password stops working at once, and every session of the user
    ends (`access_end`). The audit event belongs to `school_unit` when given
    (a teacher's, changed at one of their schools), else to the account's own.
    """
    password = generate_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    scope = {"school_unit": school_unit} if school_unit is not None else home_scope(user)
    audit_record(
        action=AuditAction.PASSWORD_REGENERATED,
        context=context,
        target=user.username,
        **scope,
    )
    access_end(users=[user], context=context, reason="password_replaced", school_unit=school_unit)
    return password


@transaction.atomic
def own_password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    door: Door,
    context: AuditContext,
    device: str = "",
    keep_session_key: str = "",
) -> PasswordCheck:
    """A logged-in person changes their own password (the teacher's account
    page, "Mitt konto" in E-tjänster).

    SECURITY: the current password is checked like a login: throttled (so a
    stolen session cannot guess it), each wrong one audited. The caller has
    validated the new password. Every other session of the account ends;
    the one in `keep_session_key` stays (the caller stores its new hash).
    """
    check = password_check(
        context=context.acting(user),
        username=user.username,
        password=old_password,
        door=door,
        device=device,
        failure_action=AuditAction.PASSWORD_CHANGE_FAILED,
    )
    if check.outcome != CheckOutcome.ACCEPTED:
        return check
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(
        action=AuditAction.PASSWORD_CHANGED,
        context=context.acting(user),
        target=user.username,
        details={"by": "self"},
        **home_scope(user),
    )
    access_end(
        users=[user],
        context=context.acting(user),
        reason="password_changed",
        keep_session_key=keep_session_key,
    )
    return check
