"""The audit log: one place that writes events, called by every service.

Services call `audit_record` inside their own transaction, so an event exists
exactly when the change it describes was committed. Who acted and from where
reach them as an `AuditContext`, never as the HTTP request: services and this
writer know nothing of the web layer (`accounts.network.audit_context` builds
the context of a request, commands use `AuditContext.system()`).
"""

import dataclasses
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from config import metrics
from permissions.models import AuditEvent


@dataclasses.dataclass(frozen=True)
class AuditContext:
    """Who acts, from which client address, and at which school unit.

    Built once per request (`accounts.network.audit_context`) and handed to
    every service the request calls. `actor` is None for an anonymous
    visitor or a system job; `school_unit` is the school a page acts at (an
    E-tjänster school page), the default scope of its audit events.
    """

    actor: Any = None
    address: str | None = None
    school_unit: Any = None

    @classmethod
    def system(cls) -> "AuditContext":
        """A management command, a migration or a test: no person, no address."""
        return cls()

    def acting(self, actor) -> "AuditContext":
        """The same request, now on behalf of `actor` (e.g. the user a login identified)."""
        return dataclasses.replace(self, actor=actor)

    def at(self, school_unit) -> "AuditContext":
        return dataclasses.replace(self, school_unit=school_unit)


class AuditAction(models.TextChoices):
    # Logins (the factor is named in details)
    LOGIN_SUCCEEDED = "login_succeeded", _("Login succeeded")
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOGOUT = "logout", _("Logged out")
    # One event per burst of attempts the throttle refused, with their count.
    LOGIN_THROTTLED = "login_throttled", _("Attempts refused by the throttle")
    SESSIONS_ENDED = "sessions_ended", _("Sessions ended")
    # A logged-in person proved a factor again before a grave act.
    REAUTHENTICATED = "reauthenticated", _("Re-authenticated")
    REAUTHENTICATION_FAILED = "reauthentication_failed", _("Re-authentication failed")
    # Credentials
    PASSWORD_ISSUED = "password_issued", _("Password issued")
    PASSWORD_REGENERATED = "password_regenerated", _("Password regenerated")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PASSWORD_CHANGE_FAILED = "password_change_failed", _("Password change refused")
    CARD_ISSUED = "card_issued", _("Matrix card issued")
    CARD_REGENERATED = "card_regenerated", _("Matrix card regenerated")
    CARD_LOCKED = "card_locked", _("Matrix card locked")
    CARD_UNLOCKED = "card_unlocked", _("Matrix card unlocked")
    TOTP_ENROLLED = "totp_enrolled", _("Authenticator app set up")
    TOTP_REMOVED = "totp_removed", _("Authenticator app removed")
    EMAIL_CODE_SENT = "email_code_sent", _("Code sent by e-mail")
    EMAIL_CODE_REFUSED = "email_code_refused", _("E-mailed code refused")
    # Accounts
    ACCOUNT_CREATED = "account_created", _("Account created")
    ACCOUNT_CHANGED = "account_changed", _("Account changed")
    ROLE_CHANGED = "role_changed", _("Role changed")
    PRINCIPAL_ISSUED = "principal_issued", _("Credentials issued to a principal")
    PRINCIPAL_LINKED = "principal_linked", _("Principal linked to school unit")
    PRINCIPAL_UNLINKED = "principal_unlinked", _("Principal unlinked from school unit")
    ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
    ACCOUNT_REACTIVATED = "account_reactivated", _("Account reactivated")
    ACCOUNT_DELETED = "account_deleted", _("Account deleted")
    TEST_ADMIN_ISSUED = "test_admin_issued", _("Credentials issued to a test administrator")
    TEST_ADMIN_REACTIVATED = "test_admin_reactivated", _("Test administrator reactivated")
    TEST_ADMIN_DEACTIVATED = "test_admin_deactivated", _("Test administrator deactivated")
    # Memberships
    MEMBERSHIP_REGISTERED = "membership_registered", _("Membership registered")
    MEMBERSHIP_CONFIRMED = "membership_confirmed", _("Membership confirmed by the teacher")
    MEMBERSHIP_DECLINED = "membership_declined", _("Membership declined by the teacher")
    MEMBERSHIP_GRANTED = "membership_granted", _("Subjects changed")
    MEMBERSHIP_REACTIVATED = "membership_reactivated", _("Membership reactivated")
    MEMBERSHIP_REMOVED = "membership_removed", _("Membership removed")
    MEMBERSHIP_RESTORED = "membership_restored", _("Membership restored")
    # Recorded at each of the account's other schools, so that they see it is shared.
    TEACHER_ACCOUNT_SHARED = (
        "teacher_account_shared",
        _("Teacher account also registered at another school"),
    )
    TEACHERS_IMPORTED = "teachers_imported", _("Teachers imported from CSV")
    IMPORT_PREVIEWED = "import_previewed", _("CSV import previewed")
    IMPORT_SLIPS_DOWNLOADED = "import_slips_downloaded", _("Slips of a CSV import downloaded")
    # Schools and policy
    HUVUDMAN_CHANGED = "huvudman_changed", _("Huvudman changed")
    SCHOOL_UNIT_CHANGED = "school_unit_changed", _("School unit changed")
    POLICY_CHANGED = "policy_changed", _("Access policy changed")
    SUBJECT_CHANGED = "subject_changed", _("Subject changed")
    MATERIAL_CHANGED = "material_changed", _("Material changed")
    SITE_NOTICE_CHANGED = "site_notice_changed", _("Site notice changed")
    # The portal
    MATERIAL_DOWNLOADED = "material_downloaded", _("Protected material downloaded")
    ACCESS_REFUSED = "access_refused", _("Access refused")
    # The log itself
    LOG_EXPORTED = "log_exported", _("Log exported as CSV")
    # Support
    TICKET_CHANGED = "ticket_changed", _("Support ticket changed")
    TICKET_ANSWERED = "ticket_answered", _("Support ticket answered")
    # Data protection (README "Privacy")
    DATA_EXPORTED = "data_exported", _("Personal data exported")
    AUDIT_PURGED = "audit_purged", _("Old audit events deleted")
    TICKETS_PURGED = "tickets_purged", _("Old support tickets deleted")


LOGIN_ACTIONS = frozenset({AuditAction.LOGIN_SUCCEEDED, AuditAction.LOGIN_FAILED})

# Recorded nationally or at a huvudman, never at a school unit: the national
# catalogue and policy, the site, support, and retention. A school's log
# leaves them out of its action filter (they would always find nothing), and
# `audit_build` keeps them from a school.
NEVER_AT_A_SCHOOL = frozenset(
    {
        AuditAction.HUVUDMAN_CHANGED,
        AuditAction.POLICY_CHANGED,
        AuditAction.SUBJECT_CHANGED,
        AuditAction.MATERIAL_CHANGED,
        AuditAction.SITE_NOTICE_CHANGED,
        AuditAction.TICKET_CHANGED,
        AuditAction.TICKET_ANSWERED,
        AuditAction.AUDIT_PURGED,
        AuditAction.TICKETS_PURGED,
    }
)


def audit_record(
    *,
    action: AuditAction,
    context: AuditContext,
    school_unit=None,
    huvudman=None,
    target: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction."""
    event = audit_build(
        action=action,
        context=context,
        school_unit=school_unit,
        huvudman=huvudman,
        target=target,
        details=details,
    )
    event.save()
    if event.action in LOGIN_ACTIONS:
        metrics.login_observed(action=event.action, details=event.details)
    return event


def audit_build(
    *,
    action: AuditAction,
    context: AuditContext,
    school_unit=None,
    huvudman=None,
    target: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """An unsaved event, for services that write many at once with
    `AuditEvent.objects.bulk_create` (CSV import, reactivate all).

    The event belongs to `school_unit` (and its huvudman), or to `huvudman`
    alone; given neither, to the context's school unit, if any. An action of
    NEVER_AT_A_SCHOOL never belongs to a school (a school's log filter
    relies on it): the context's unit is not taken, and naming one is a bug.
    """
    if AuditAction(action) in NEVER_AT_A_SCHOOL:
        if school_unit is not None:
            raise ValueError(f"{action} is never recorded at a school unit")
    elif school_unit is None and huvudman is None:
        school_unit = context.school_unit
    if huvudman is not None:
        huvudman_id = huvudman.pk
    else:
        huvudman_id = school_unit.huvudman_id if school_unit is not None else None
    actor = context.actor
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent(
        action=AuditAction(action).value,
        actor_id=actor.pk if authenticated else None,
        actor_username=actor.get_username() if authenticated else "",
        actor_role=getattr(actor, "role", "") if authenticated else "",
        school_unit=school_unit,
        huvudman_id=huvudman_id,
        target=str(target)[:200],
        ip_address=context.address,
        details=details or {},
    )


def field_changes(*, instance: models.Model, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """What saving `instance` would change, field by field, as text for the log:
    {field: [before, after]}. Read from the database row before the save."""
    if instance.pk is None:
        return {}
    stored = type(instance)._default_manager.filter(pk=instance.pk).first()
    if stored is None:
        return {}
    changes = {}
    for name in fields:
        field = instance._meta.get_field(name)
        before, after = field.value_from_object(stored), field.value_from_object(instance)
        if str(before) != str(after):
            changes[name] = [str(before)[:200], str(after)[:200]]
    return changes
