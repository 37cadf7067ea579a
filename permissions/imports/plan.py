"""What importing a CSV of teachers would do, row by row: pure reading, a
constant number of queries whatever the row count."""

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.validators import CONTROL_CHARACTER_MESSAGE, has_control_characters
from core.refusals import REFUSAL_MESSAGES, RefusalCode
from permissions.imports.parse import (
    FIRST_NAME_MAX,
    LAST_NAME_MAX,
    ImportPlan,
    Outcome,
    PlannedRow,
    SubjectMode,
    email_error_of,
    parse_rows,
)
from permissions.models import Subject, SubjectGrant
from permissions.policy import (
    restorable_memberships,
    restorable_removed_accounts,
    school_memberships,
)
from permissions.selectors import teacher_accounts_by_email
from permissions.services.codes import confirmation_codes_spent
from schools.models import SchoolUnit


def plan_import(*, school_unit: SchoolUnit, text: str, mode: str = SubjectMode.ADD) -> ImportPlan:
    """What importing `text` into `school_unit` would do, row by row.

    Six queries whatever the number of rows: the subjects named, the
    teacher accounts with the e-mails named, those removed here lately (to
    be restored, not registered again), their memberships here, the codes
    mailed lately to those it would link, and those memberships' subjects.
    """
    if mode not in (SubjectMode.ADD, SubjectMode.REPLACE):
        mode = SubjectMode.ADD
    rows = parse_rows(text)
    codes = {code for row in rows for code in row.subject_codes}
    subjects = {s.code.upper(): s for s in Subject.objects.filter(code__in=codes)}
    seen: dict[str, int] = {}
    for row in rows:
        _row_check(row, subjects=subjects, seen=seen)
    accounts = teacher_accounts_by_email(emails=list(seen))
    members = {
        membership.user_id: membership
        for membership in school_memberships(school_unit=school_unit).filter(
            user__in=list(accounts.values())
        )
    }
    _link_check(rows, school_unit=school_unit, accounts=accounts, members=members)
    current: dict[int, dict[int, Subject]] = {}
    for grant in SubjectGrant.objects.filter(membership__in=list(members.values())).select_related(
        "subject"
    ):
        current.setdefault(grant.membership_id, {})[grant.subject_id] = grant.subject
    for row in rows:
        _row_plan(row, accounts=accounts, members=members, current=current, mode=mode)
    return ImportPlan(rows=rows, mode=mode)


def _row_check(row: PlannedRow, *, subjects: dict[str, Subject], seen: dict[str, int]) -> None:
    """The row's own errors: names, address (also once in the file) and
    subject codes; `seen` collects the valid addresses with their rows."""
    if not row.first_name:
        row.errors.append(_("First name is missing."))
    elif len(row.first_name) > FIRST_NAME_MAX:
        row.errors.append(
            _("The first name is longer than %(max)d characters.") % {"max": FIRST_NAME_MAX}
        )
    if not row.last_name:
        row.errors.append(_("Last name is missing."))
    elif len(row.last_name) > LAST_NAME_MAX:
        row.errors.append(
            _("The last name is longer than %(max)d characters.") % {"max": LAST_NAME_MAX}
        )
    if has_control_characters(row.first_name + row.last_name):
        row.errors.append(str(CONTROL_CHARACTER_MESSAGE))
    email_error = email_error_of(row.email)
    if email_error:
        row.errors.append(email_error)
    else:
        key = row.email.lower()
        if key in seen:
            row.errors.append(
                _("The e-mail address %(email)s is also on row %(row)d.")
                % {"email": row.email, "row": seen[key]}
            )
        else:
            seen[key] = row.number
    unknown = [code for code in row.subject_codes if code not in subjects]
    if unknown:
        row.errors.append(_("Unknown subject code: %(codes)s.") % {"codes": ", ".join(unknown)})
    row.subjects = [subjects[code] for code in row.subject_codes if code in subjects]


def _link_check(rows, *, school_unit: SchoolUnit, accounts: dict, members: dict) -> None:
    """Errors of rows that would link an existing account: removed here
    lately (restored, not registered again), or past the hour's codes."""
    # Removed here lately: restored by the principal, not registered again
    # (`memberships_register` refuses it too).
    restorable = set(
        restorable_memberships(school_unit=school_unit, now=timezone.now())
        .filter(user__in=list(accounts.values()))
        .values_list("user_id", flat=True)
    )
    # A removed account ("borttagen") is found by its school only, by address.
    removed = set(
        restorable_removed_accounts(
            school_unit=school_unit, now=timezone.now(), emails=[row.email for row in rows]
        ).values_list("email_lower", flat=True)
    )
    for row in rows:
        account = accounts.get(row.email.lower()) if not row.errors else None
        if (account is not None and account.pk in restorable) or (
            not row.errors and row.email.lower() in removed
        ):
            row.errors.append(str(REFUSAL_MESSAGES[RefusalCode.RESTORABLE]) % {"email": row.email})
    # A link mails the account a confirmation code: not past the limit of
    # codes an hour (`memberships_register` refuses the whole file then).
    linked = [user for user in accounts.values() if user.pk not in members]
    spent = confirmation_codes_spent(users=linked) if linked else set()
    for row in rows:
        account = accounts.get(row.email.lower()) if not row.errors else None
        if account is not None and account.pk in spent:
            row.errors.append(
                str(REFUSAL_MESSAGES[RefusalCode.REGISTRATION_MAIL_LIMIT]) % {"email": row.email}
            )


def _row_plan(row: PlannedRow, *, accounts: dict, members: dict, current: dict, mode: str) -> None:
    """What importing a valid row does: its outcome and its subjects added,
    kept and removed under `mode`."""
    if row.errors:
        row.outcome = Outcome.ERROR
        return
    row.user = accounts.get(row.email.lower())
    have: dict[int, Subject] = {}
    if row.user is None:
        row.outcome = Outcome.NEW
    elif row.user.pk in members:
        row.outcome = Outcome.UPDATED
        row.membership = members[row.user.pk]
        have = current.get(row.membership.pk, {})
    else:
        row.outcome = Outcome.LINKED
    wanted = {subject.pk: subject for subject in row.subjects}
    target = dict(wanted) if mode == SubjectMode.REPLACE else {**have, **wanted}
    row.target_subjects = sorted(target.values(), key=lambda subject: subject.code)
    row.subjects_added = sorted(s.code for pk, s in target.items() if pk not in have)
    row.subjects_kept = sorted(s.code for pk, s in have.items() if pk in target)
    row.subjects_removed = sorted(s.code for pk, s in have.items() if pk not in target)
