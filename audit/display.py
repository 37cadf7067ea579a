"""The words of the audit log: Swedish labels for actions, details as
sentences ("faktor: inloggningsmatris; …").

The log stores codes (append-only, stable across releases); this is the one
place that turns them into words, for the E-tjänster school log, both admin
sites' lists and every CSV export. The rows with people's names are
`permissions.event_rows`, which knows whose names a school may see.
"""

import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.actions import AuditAction
from core.refusals import REFUSAL_MESSAGES, RefusalCode

# One way to write a moment and a day in every log, its details, and the
# support tickets (SS-ISO 8601, read the same in Swedish and English).
LOG_TIME_FORMAT = "Y-m-d H:i"
LOG_DATE_FORMAT = "Y-m-d"


def log_time(moment: datetime.datetime) -> str:
    """A moment as every log shows it, in Stockholm time."""
    return formats.date_format(timezone.localtime(moment), LOG_TIME_FORMAT)


def _iso_moment(value: str) -> str | None:
    """An ISO date or date-time stored in details, as the logs write them;
    None for any other text."""
    if not (10 <= len(value) <= 32 and value[:4].isdigit() and value[4:5] == "-"):
        return None
    try:
        if len(value) == 10:
            return formats.date_format(datetime.date.fromisoformat(value), LOG_DATE_FORMAT)
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return log_time(moment)


def action_label(code: str) -> str:
    try:
        return str(AuditAction(code).label)
    except ValueError:
        return code


DETAIL_LABELS = {
    "factor": gettext_lazy("factor"),
    "ss12000_source": gettext_lazy("SS 12000 source"),
    "door": gettext_lazy("login"),
    "throttled": gettext_lazy("throttled by"),
    "refused": gettext_lazy("refused because"),
    "missing": gettext_lazy("code missing"),
    "failures": gettext_lazy("wrong answers in a row"),
    "serial": gettext_lazy("card serial"),
    # A card event lists the serials of the cards it replaced; an
    # authenticator app's enrolment, how many apps it replaced.
    "replaced": gettext_lazy("replaced"),
    "cell": gettext_lazy("cell asked"),
    "reason": gettext_lazy("reason"),
    "subjects": gettext_lazy("subjects"),
    "added": gettext_lazy("added"),
    "removed": gettext_lazy("removed"),
    "new_account": gettext_lazy("new account"),
    "valid_until": gettext_lazy("valid until"),
    "csv_row": gettext_lazy("CSV row"),
    "account_deleted": gettext_lazy("account deleted"),
    "school_unit": gettext_lazy("school unit"),
    "school_name": gettext_lazy("school"),
    "school_units": gettext_lazy("school units"),
    "change": gettext_lazy("change"),
    "school_form": gettext_lazy("school form"),
    "level": gettext_lazy("level"),
    "name": gettext_lazy("name"),
    "forms": gettext_lazy("school forms"),
    "contact_name": gettext_lazy("contact person"),
    "contact_email": gettext_lazy("contact e-mail"),
    "contact_phone": gettext_lazy("contact phone"),
    "subject": gettext_lazy("subject"),
    "condition": gettext_lazy("condition not met"),
    "what": gettext_lazy("what"),
    "by": gettext_lazy("by"),
    "rows": gettext_lazy("rows"),
    "new": gettext_lazy("new accounts"),
    "linked": gettext_lazy("existing accounts"),
    "updated": gettext_lazy("already at the school"),
    "unchanged": gettext_lazy("unchanged"),
    "subjects_added": gettext_lazy("subjects added"),
    "subjects_removed": gettext_lazy("subjects removed"),
    "error": gettext_lazy("rows with errors"),
    "mode": gettext_lazy("subjects"),
    "sha256": gettext_lazy("file fingerprint"),
    "filters": gettext_lazy("filters"),
    "count": gettext_lazy("events"),
    "status": gettext_lazy("status"),
    "assigned_to": gettext_lazy("assigned to"),
    "ticket": gettext_lazy("ticket"),
    "teacher_schools": gettext_lazy("teacher at"),
    # The account lifecycle (issue 8).
    "confirmed": gettext_lazy("confirmed"),
    "sessions": gettext_lazy("sessions ended"),
    "purpose": gettext_lazy("code for"),
    "with": gettext_lazy("with"),
    "replaces": gettext_lazy("replaces"),
    "one_time": gettext_lazy("one-time password"),
    "enrolment": gettext_lazy("at enrolment"),
    "role": gettext_lazy("role"),
    "username_chosen": gettext_lazy("username chosen"),
    "totp_devices_removed": gettext_lazy("authenticator apps removed"),
    "before": gettext_lazy("before"),
    "after": gettext_lazy("after"),
    "fields": gettext_lazy("changed fields"),
    "protected": gettext_lazy("protected"),
    "title": gettext_lazy("title"),
    "starts_at": gettext_lazy("shown from"),
    "ends_at": gettext_lazy("shown until"),
    "first": gettext_lazy("first attempt"),
    "last": gettext_lazy("last attempt"),
    "scope": gettext_lazy("data of"),
    "deleted": gettext_lazy("deleted"),
    "retention_years": gettext_lazy("kept for years"),
    # The product speaks first (issue 22).
    "on": gettext_lazy("switched on"),
    "off": gettext_lazy("switched off"),
    "report": gettext_lazy("report"),
    "delete_after": gettext_lazy("deleted after"),
    "account_removed": gettext_lazy("account removed"),
    "teachers": gettext_lazy("teachers"),
    # Federated login (issue 20).
    "idp": gettext_lazy("identity provider"),
    "attribute": gettext_lazy("attribute"),
    "two_factor": gettext_lazy("two factors"),
    "proof": gettext_lazy("proved with"),
    "password_kept": gettext_lazy("portal password kept"),
}

# Labels of values whose words belong to an app above this one (a support
# ticket's status), given by that app at start-up (`label_values`): the log
# stores codes, and the app that defines them says how they read.
KEYED_VALUE_LABELS: dict[str, dict[str, str]] = {}


def label_values(key: str, choices) -> None:
    """Read the values of detail `key` with the labels of `choices` (TextChoices)."""
    KEYED_VALUE_LABELS[key] = {choice.value: choice.label for choice in choices}


VALUE_LABELS = {
    "matrix_card": gettext_lazy("matrix card"),
    "password": gettext_lazy("password"),
    "totp": gettext_lazy("authenticator app"),
    "etjanster": gettext_lazy("E-services"),
    "bedomningsportalen": gettext_lazy("Bedömningsportalen"),
    "admin": gettext_lazy("national administration"),
    "huvudman": gettext_lazy("huvudman site"),
    "username": gettext_lazy("too many wrong passwords for the username"),
    "address": gettext_lazy("too many wrong passwords from the address"),
    "absolute_timeout": gettext_lazy("the session reached its longest time"),
    "added": gettext_lazy("added"),
    "removed": gettext_lazy("removed"),
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("changed"),
    # Who acted on their own account: a teacher, a principal or staff alike.
    "self": gettext_lazy("the person themself"),
    "page": gettext_lazy("the page"),
    "file": gettext_lazy("the file"),
    "add": gettext_lazy("the file's subjects are added to the teacher's current ones"),
    "replace": gettext_lazy("the file's subjects replace the teacher's current ones"),
    "grundskola": gettext_lazy("Grundskola"),
    "gymnasial": gettext_lazy("Upper secondary"),
    # Why sessions ended (`accounts.services.access.access_end`).
    "totp_replaced": gettext_lazy("new authenticator app"),
    "card_replaced": gettext_lazy("new matrix card"),
    "password_replaced": gettext_lazy("new password"),
    "password_changed": gettext_lazy("password changed"),
    "credentials_reset": gettext_lazy("new one-time password"),
    "enrolled": gettext_lazy("authenticator app set up"),
    "deactivated": gettext_lazy("deactivated"),
    "role_changed": gettext_lazy("role changed"),
    "unlinked": gettext_lazy("unlinked from the school"),
    # E-mailed codes and roles.
    "email_code": gettext_lazy("a code sent by e-mail"),
    "one_time_password": gettext_lazy("the one-time password"),
    "confirm_membership": gettext_lazy("confirming a school's registration"),
    "new_password": gettext_lazy("a new password"),
    "national_admin": gettext_lazy("National administrator"),
    "huvudman_staff": gettext_lazy("Huvudman staff"),
    "principal": gettext_lazy("Principal"),
    "test_admin": gettext_lazy("Test administrator"),
    "teacher": gettext_lazy("Teacher"),
    "school_unit": gettext_lazy("the school unit"),
    # The product speaks first (issue 22): a forgotten password, the notices, the reports.
    "reset_password": gettext_lazy("a forgotten password"),
    "removal_not_undone": gettext_lazy("removed 30 days ago and not restored"),
    "link_answered": gettext_lazy("a teacher confirmed or declined a registration"),
    "card_locked": gettext_lazy("a matrix card locked"),
    "weekly_digest": gettext_lazy("weekly summary"),
    "new_school_year": gettext_lazy("teachers waiting for reactivation"),
    "unit_without_principal": gettext_lazy("a school unit without a principal"),
    "never_logged_in": gettext_lazy("principals who never logged in"),
    "units_without_principal": gettext_lazy("school units without an active principal"),
    "locked_cards": gettext_lazy("locked matrix cards"),
    "teachers_per_unit": gettext_lazy("teachers per school unit"),
    # Federated login (issue 20).
    "school_account": gettext_lazy("the school's account (federated login)"),
    "trusted_email": gettext_lazy("the identity provider's e-mail, trusted by the huvudman"),
    "link_school_account": gettext_lazy("linking a school account"),
}


# Details that list subject codes (registration, a change of subjects).
SUBJECT_LISTS = frozenset({"subjects", "added", "removed"})


def _value(key: str, value, subjects: dict[str, str] | None = None) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "replaced" and isinstance(value, int):
        # An authenticator app's enrolment counts the apps it replaced.
        return _("the earlier app") if value else _("none (the first app)")
    if isinstance(value, list):
        if key in SUBJECT_LISTS and subjects:
            value = [
                f"{subjects[code]} ({code})" if code in subjects else code
                for code in value
                if isinstance(code, str)
            ]
        return ", ".join(_value(key, item) for item in value) or "–"
    if key in {"refused", "condition"}:
        try:
            return str(REFUSAL_MESSAGES[RefusalCode(value)]).split("%")[0].rstrip(" .:")
        except ValueError:
            return str(value)
    if isinstance(value, str) and (moment := _iso_moment(value)) is not None:
        return moment
    if key == "sha256" and isinstance(value, str):
        return value[:12]
    if key in KEYED_VALUE_LABELS and isinstance(value, str):
        return str(KEYED_VALUE_LABELS[key].get(value, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(k, v)}" for k, v in value.items())
    label = VALUE_LABELS.get(str(value)) if isinstance(value, str) else None
    return str(label) if label is not None else str(value)


def describe_details(details: dict | None, subjects: dict[str, str] | None = None) -> str:
    """The details of an event as one readable line ("faktor: inloggningsmatris; …"),
    subject codes with their names where `subjects` (code: name) has them."""
    if not details:
        return ""
    return "; ".join(
        f"{DETAIL_LABELS.get(key, key)}: {_value(key, value, subjects)}"
        for key, value in details.items()
    )
