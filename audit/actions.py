"""What the audit log records: the actions, by code (stored; never renamed)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    # Logins (the factor is named in details)
    LOGIN_SUCCEEDED = "login_succeeded", _("Login succeeded")
    # The password of a two-step login was right; the login succeeds (or
    # fails) at the second factor. One "login succeeded" per completed login.
    PASSWORD_ACCEPTED = "password_accepted", _("Password accepted, second step asked")
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
    # A teacher account whose last membership was removed: no login, no
    # access, deleted for good after 30 days unless its school restores it.
    ACCOUNT_REMOVED = "account_removed", _("Account removed (deleted after 30 days)")
    ACCOUNT_RESTORED = "account_restored", _("Removed account restored")
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
    # Slips (without passwords) the school sent again to the teachers it ticked.
    SLIPS_MAILED = "slips_mailed", _("Login slips sent by e-mail")
    # A principal or test administrator looked at the catalogue as one
    # teacher sees it (read-only; no session of the teacher).
    CATALOGUE_VIEWED_AS_TEACHER = (
        "catalogue_viewed_as_teacher",
        _("Catalogue viewed as the teacher sees it"),
    )
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
    # A principal printed the school's handover (teachers, subjects, log).
    HANDOVER_PRINTED = "handover_printed", _("Handover printed")
    # SS 12000 (provisioning): a huvudman's source configured or synced, a
    # school's "approve new teachers automatically" switched.
    SS12000_SOURCE_CHANGED = "ss12000_source_changed", _("SS 12000 source changed")
    SS12000_SYNCED = "ss12000_synced", _("SS 12000 source synced")
    SS12000_AUTO_APPROVE_CHANGED = (
        "ss12000_auto_approve_changed",
        _("Automatic approval of SS 12000 teachers changed"),
    )
    # The log itself
    LOG_EXPORTED = "log_exported", _("Log exported as CSV")
    REPORT_EXPORTED = "report_exported", _("Report exported as CSV")
    # A person's own choice of the optional notices mailed to them.
    NOTIFICATIONS_CHANGED = "notifications_changed", _("Notification settings changed")
    # Federated login (SAML 2.0): a huvudman's identity provider, and the
    # school accounts linked to portal accounts. The logins themselves are
    # LOGIN_SUCCEEDED / LOGIN_FAILED with the factor "school_account".
    IDENTITY_PROVIDER_CHANGED = "identity_provider_changed", _("Identity provider changed")
    FEDERATED_IDENTITY_LINKED = "federated_identity_linked", _("School account linked")
    FEDERATED_IDENTITY_UNLINKED = "federated_identity_unlinked", _("School account unlinked")
    # Support
    TICKET_CHANGED = "ticket_changed", _("Support ticket changed")
    TICKET_ANSWERED = "ticket_answered", _("Support ticket answered")
    # Data protection (docs/privacy.md)
    DATA_EXPORTED = "data_exported", _("Personal data exported")
    AUDIT_PURGED = "audit_purged", _("Old audit events deleted")
    TICKETS_PURGED = "tickets_purged", _("Old support tickets deleted")


LOGIN_ACTIONS = frozenset(
    {AuditAction.LOGIN_SUCCEEDED, AuditAction.PASSWORD_ACCEPTED, AuditAction.LOGIN_FAILED}
)


# Recorded nationally or at a huvudman, never at a school unit: the national
# catalogue and policy, the site, support, and retention. A school's log
# leaves them out of its action filter (they would always find nothing), and
# `audit_build` keeps them from a school.
NEVER_AT_A_SCHOOL = frozenset(
    {
        AuditAction.HUVUDMAN_CHANGED,
        AuditAction.SS12000_SOURCE_CHANGED,
        AuditAction.SS12000_SYNCED,
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
