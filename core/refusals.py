"""The one refusal type: every "no" of a policy or service, as a code.

As django-otp's `VerifyNotAllowed`, a refusal is an enum value, not a
sentence: services raise `Refused(code, **params)`, the audit log records
`code`, and the Swedish text the person reads comes from `REFUSAL_MESSAGES`,
the one place that maps codes to words. Pages with a longer explanation (the
gate's refusal page, the card problem page) choose their text by the code.
"""

import datetime
import enum

from django.utils import formats
from django.utils.translation import gettext_lazy as _


class RefusalCode(enum.StrEnum):
    # The material gate (SPEC "The material gate", conditions 1–4).
    NOT_TEACHER = "not_teacher"
    NO_VALID_MEMBERSHIP = "no_valid_membership"
    SCHOOL_FORM = "school_form"
    SUBJECT = "subject"

    # Logins: right password at the wrong door, or a second factor that cannot be used.
    WRONG_ROLE = "wrong_role"
    TEACHER_ACCOUNT = "teacher_account"
    NO_CARD = "no_card"
    CARD_LOCKED = "locked"
    CARD_NOT_ACTIVE = "card_not_active"
    DAILY_CAP = "daily_cap"
    NO_DEVICE = "no_device"
    # The password throttle: params `time` (shown), `retry_at`, `reason` (for the log).
    THROTTLED = "throttled"
    # A right password for an account that may not log in (now).
    ACCOUNT_INACTIVE = "account_inactive"
    ONBOARDING_EXPIRED = "onboarding_expired"
    APPOINTMENT_ENDED = "appointment_ended"

    # School administration.
    NOT_ALLOWED = "not_allowed"
    # Why a school page said no, for the 403 page (`etjanster.views.shared.require`).
    PRINCIPAL_ONLY_REMOVES = "principal_only_removes"
    PRINCIPAL_ONLY_TEST_ADMINS = "principal_only_test_admins"
    PRINCIPAL_ONLY_HANDOVER = "principal_only_handover"
    SHARED_ACCOUNT = "shared_account"
    ALREADY_REGISTERED = "already_registered"
    ALREADY_REGISTERED_SELF = "already_registered_self"
    RESTORABLE = "restorable"
    ALREADY_TEST_ADMIN = "already_test_admin"
    REACTIVATION_NOT_OPEN = "reactivation_not_open"
    IMPORT_HAS_ERRORS = "import_has_errors"
    ALREADY_DEACTIVATED = "already_deactivated"
    LAST_SCHOOL_UNIT = "last_school_unit"
    NOT_CONFIRMED = "not_confirmed"
    OWN_ACCOUNT = "own_account"
    RESTORE_EXPIRED = "restore_expired"
    IMPORT_PREVIEW_STALE = "import_preview_stale"
    IMPORT_PICKUP_GONE = "import_pickup_gone"

    # Codes sent by e-mail (confirming a school's registration, a new password).
    CODE_WRONG = "code_wrong"
    CODE_USED = "code_used"
    CODE_EXPIRED = "code_expired"
    # Too many codes mailed to one teacher account lately.
    CODE_MAIL_LIMIT = "code_mail_limit"
    # The same, for the code a registration would mail: param `email`.
    REGISTRATION_MAIL_LIMIT = "registration_mail_limit"
    # "Glömt lösenordet?": too many requests from one client address.
    RESET_LIMIT = "reset_limit"
    # Restoring a removed account whose e-mail address another teacher account now has.
    ADDRESS_TAKEN = "address_taken"

    # Federated login (SAML 2.0, `federation`): the IdP's answer was not
    # accepted (details name pysaml2's reason), was seen before, lacked the
    # attributes we need, or did not say two factors where two are required.
    FEDERATION_INVALID = "federation_invalid"
    FEDERATION_REPLAYED = "federation_replayed"
    FEDERATION_ATTRIBUTES = "federation_attributes"
    FEDERATION_NO_MFA = "federation_no_mfa"


REFUSAL_MESSAGES = {
    RefusalCode.NOT_TEACHER: _("Only a teacher logged in to Bedömningsportalen may open this."),
    RefusalCode.NO_VALID_MEMBERSHIP: _("You have no membership valid this school year."),
    RefusalCode.SCHOOL_FORM: _("None of your schools' school forms reaches this material's level."),
    RefusalCode.SUBJECT: _("None of your schools has granted you this subject."),
    RefusalCode.WRONG_ROLE: _("This account does not log in here."),
    RefusalCode.TEACHER_ACCOUNT: _("Teacher accounts log in to Bedömningsportalen."),
    RefusalCode.NO_CARD: _("The account has no matrix card: issue a new card."),
    RefusalCode.CARD_LOCKED: _("The matrix card is locked."),
    RefusalCode.CARD_NOT_ACTIVE: _("The matrix card is not active."),
    RefusalCode.DAILY_CAP: _("Too many new login attempts today."),
    RefusalCode.NO_DEVICE: _("The account has no authenticator app."),
    RefusalCode.THROTTLED: _("Too many attempts: wait until %(time)s."),
    RefusalCode.ACCOUNT_INACTIVE: _("The account is deactivated."),
    RefusalCode.ONBOARDING_EXPIRED: _(
        "The one-time password has expired. Ask a national administrator for a new one."
    ),
    RefusalCode.APPOINTMENT_ENDED: _("The appointment as test administrator has ended."),
    RefusalCode.NOT_ALLOWED: _("You may not do this."),
    RefusalCode.PRINCIPAL_ONLY_REMOVES: _(
        "Only the school's principal removes teachers and restores removed ones."
    ),
    RefusalCode.PRINCIPAL_ONLY_TEST_ADMINS: _(
        "Only the school's principal appoints and manages test administrators."
    ),
    RefusalCode.PRINCIPAL_ONLY_HANDOVER: _(
        "Only the school's principal reads and prints the handover of the school."
    ),
    RefusalCode.SHARED_ACCOUNT: _(
        "The teacher's account is also used at a school you do not administer, so you may not "
        "see a new password for it. Send the teacher a code from the teacher's page instead."
    ),
    RefusalCode.ALREADY_REGISTERED: _(
        "%(email)s is already registered as a teacher at this school."
    ),
    RefusalCode.ALREADY_REGISTERED_SELF: _(
        "You are already registered as a teacher at this school. Log in to "
        "Bedömningsportalen with your teacher account, username %(username)s."
    ),
    RefusalCode.RESTORABLE: _(
        "%(email)s was removed from this school less than 30 days ago and can be restored, with "
        "the same subjects, by the principal under “Removed teachers”. Restore instead of "
        "registering again: a new registration would wait for the teacher's confirmation."
    ),
    RefusalCode.ALREADY_TEST_ADMIN: _(
        "%(email)s is already a test administrator at this school (username %(username)s). "
        "Give a new password or card, or reactivate, in the list below instead of issuing a "
        "second account."
    ),
    RefusalCode.REACTIVATION_NOT_OPEN: _(
        "Already valid for this school year (until %(date)s). "
        "Reactivation opens on 1 August, when the next school year begins."
    ),
    RefusalCode.IMPORT_HAS_ERRORS: _(
        "The file has errors on %(count)d rows; nothing was imported."
    ),
    RefusalCode.ALREADY_DEACTIVATED: _("The test administrator is already deactivated."),
    RefusalCode.RESTORE_EXPIRED: _(
        "The membership can no longer be restored: it was removed more than 30 days ago. "
        "Register the teacher again instead."
    ),
    RefusalCode.IMPORT_PREVIEW_STALE: _(
        "This preview is no longer valid (a newer file was checked, or it was already "
        "imported or too old). Upload the file again."
    ),
    RefusalCode.IMPORT_PICKUP_GONE: _(
        "The slips and the report of that import can no longer be downloaded: they are kept "
        "for an hour, only for whoever imported, and downloaded from the page shown after the "
        "import."
    ),
    RefusalCode.LAST_SCHOOL_UNIT: _(
        "A principal must lead at least one school unit. "
        "Deactivate the account instead if it should no longer be used."
    ),
    RefusalCode.NOT_CONFIRMED: _(
        "The teacher has not yet confirmed the registration at this school."
    ),
    RefusalCode.OWN_ACCOUNT: _(
        "You cannot deactivate your own account or change its role; ask another "
        "national administrator."
    ),
    RefusalCode.CODE_WRONG: _("The username or the code is wrong."),
    RefusalCode.CODE_USED: _("The code has already been used."),
    RefusalCode.CODE_EXPIRED: _(
        "The code has expired or been replaced by a newer one. "
        "Ask your principal to send a new code."
    ),
    RefusalCode.CODE_MAIL_LIMIT: _(
        "Too many codes have been sent to the teacher in the last hour. Try again later."
    ),
    RefusalCode.RESET_LIMIT: _(
        "Too many new passwords have been asked for from here in the last hour. Try again later."
    ),
    RefusalCode.ADDRESS_TAKEN: _(
        "%(email)s now belongs to another teacher account, so the removed account cannot be "
        "restored. Register the teacher again: the teacher confirms with a code sent to the "
        "address."
    ),
    RefusalCode.REGISTRATION_MAIL_LIMIT: _(
        "Too many confirmation codes have been sent to %(email)s in the last hour. Nothing was "
        "registered; try again later."
    ),
    RefusalCode.FEDERATION_INVALID: _("The school account's answer could not be verified."),
    RefusalCode.FEDERATION_REPLAYED: _("The school account's answer had already been used."),
    RefusalCode.FEDERATION_ATTRIBUTES: _(
        "The school account's answer lacked information the portal needs."
    ),
    RefusalCode.FEDERATION_NO_MFA: _(
        "E-tjänster needs two factors: the school account's login used only one."
    ),
}


class Refused(Exception):
    """A rule said no. `code` says which; `params` fill in its message."""

    def __init__(self, code: RefusalCode, **params):
        self.code = RefusalCode(code)
        self.params = params
        super().__init__(self.code.value)

    @property
    def message(self) -> str:
        """The sentence the person reads, in the active language (dates too)."""
        params = {
            name: formats.date_format(value, "j F Y") if isinstance(value, datetime.date) else value
            for name, value in self.params.items()
        }
        return str(REFUSAL_MESSAGES[self.code]) % params

    def __str__(self) -> str:
        return self.message
