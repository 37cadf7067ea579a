"""Reading a CSV of teachers and planning what importing it would do.

The plan is pure reading (a constant number of queries whatever the row
count); `permissions.services.csv_import_apply` re-plans inside its
transaction and writes. The file is never trusted between preview and apply:
apply parses and validates the same text again.

Format: one teacher per row, columns first name; last name; e-mail; subject
codes. Separator `;` (Swedish Excel) or `,`. Several subject codes in the
fourth column are separated by spaces or `|`. A first row of column names
(no `@`, words like Förnamn/E-post) is skipped. Encodings: UTF-8 (with
or without BOM) or Windows-1252.
"""

import csv
import dataclasses
import io
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.validators import CONTROL_CHARACTER_MESSAGE, has_control_characters
from permissions.models import Membership, Subject
from permissions.policy import linkable_teacher_accounts, school_memberships
from schools.models import SchoolUnit

# SECURITY: a bound on what one request reads and holds (also in the session
# between preview and apply). 5,000 teachers of 100 bytes fit easily.
MAX_BYTES = 512 * 1024
MAX_ROWS = 5_000
COLUMNS = 4
# The database's limits, from the model (PostgreSQL refuses longer values;
# SQLite would store them silently).
FIRST_NAME_MAX = User._meta.get_field("first_name").max_length
LAST_NAME_MAX = User._meta.get_field("last_name").max_length
EMAIL_MAX = User._meta.get_field("email").max_length
SUBJECT_SEPARATORS = re.compile(r"[\s|]+")


class Outcome:
    NEW = "new"
    LINKED = "linked"
    UPDATED = "updated"
    ERROR = "error"


OUTCOME_LABELS = {
    Outcome.NEW: gettext_lazy("New teacher account"),
    Outcome.LINKED: gettext_lazy(
        "Existing account: linked once its teacher confirms (a code goes to the e-mail address)"
    ),
    Outcome.UPDATED: gettext_lazy("Already at this school: subjects set to the file's"),
    Outcome.ERROR: gettext_lazy("Error"),
}


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is for the user."""


@dataclasses.dataclass
class PlannedRow:
    number: int
    first_name: str
    last_name: str
    email: str
    subject_codes: list[str]
    outcome: str = Outcome.NEW
    errors: list[str] = dataclasses.field(default_factory=list)
    subjects: list[Subject] = dataclasses.field(default_factory=list)
    user: User | None = None
    membership: Membership | None = None

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])


@dataclasses.dataclass
class ImportPlan:
    rows: list[PlannedRow]

    @property
    def errors(self) -> list[PlannedRow]:
        return [row for row in self.rows if row.outcome == Outcome.ERROR]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.errors

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)


def decode_upload(data: bytes) -> str:
    """Bytes of an uploaded file to text, or ImportFileError in Swedish."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(
            _("The file is too large (at most %(kb)d kB).") % {"kb": MAX_BYTES // 1024}
        )
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if b"\x00" in data:
        # A spreadsheet saved as .xlsx, a PDF or an image: not text at all.
        raise ImportFileError(
            _("The file is not a CSV file. Save it from Excel as “CSV (semicolon separated)”.")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Swedish Excel writes Windows-1252; every byte sequence decodes in it
        # except five undefined bytes, which mean it is not text either.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportFileError(
                _("The file is not a CSV file. Save it from Excel as “CSV (semicolon separated)”.")
            ) from None


# SECURITY: a spreadsheet runs a cell that starts with one of these as a
# formula (CSV injection, OWASP); the names and e-mails come from the upload.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """A cell for a CSV file someone opens in Excel: text that would start a
    formula is prefixed with `'`, which Excel shows as plain text."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _delimiter(text: str) -> str:
    first_line = text.lstrip().splitlines()[0] if text.strip() else ""
    return ";" if first_line.count(";") >= first_line.count(",") else ","


HEADER_WORDS = ("namn", "name", "mail", "post", "ämne", "amne", "subject")


def _is_header(cells: list[str]) -> bool:
    """A first row of column names, not a teacher: no e-mail address in it,
    and words of a header. A first teacher with a mistyped address is not
    skipped silently but reported like any other row."""
    text = " ".join(cells).lower()
    return "@" not in text and any(word in text for word in HEADER_WORDS)


def parse_rows(text: str) -> list[PlannedRow]:
    """Split the text into rows, checking the shape of each."""
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[PlannedRow] = []
    try:
        for number, cells in enumerate(reader, start=1):
            cells = [cell.strip() for cell in cells]
            # Excel pads rows with empty cells when any row is wider; those are no columns.
            while len(cells) > COLUMNS and not cells[-1]:
                cells.pop()
            if not any(cells):
                continue
            if number == 1 and _is_header(cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(
                    _("The file has more than %(max)d rows. Split it into smaller files.")
                    % {"max": MAX_ROWS}
                )
            row = PlannedRow(
                number=number,
                first_name=cells[0] if cells else "",
                last_name=cells[1] if len(cells) > 1 else "",
                email=cells[2] if len(cells) > 2 else "",
                # A code named twice (in any case) is granted once.
                subject_codes=list(
                    dict.fromkeys(
                        code.upper()
                        for code in SUBJECT_SEPARATORS.split(cells[3] if len(cells) > 3 else "")
                        if code
                    )
                ),
            )
            if len(cells) > COLUMNS:
                row.errors.append(
                    _("Too many columns (%(count)d); expected %(expected)d.")
                    % {"count": len(cells), "expected": COLUMNS}
                )
            elif len(cells) < COLUMNS - 1:
                row.errors.append(
                    _("Too few columns (%(count)d); expected %(expected)d.")
                    % {"count": len(cells), "expected": COLUMNS}
                )
            rows.append(row)
    except csv.Error as error:
        raise ImportFileError(
            _("The file could not be read as CSV: %(error)s") % {"error": error}
        ) from None
    if not rows:
        raise ImportFileError(_("The file has no teachers in it."))
    return rows


def _email_error(email: str) -> str | None:
    if len(email) > EMAIL_MAX:
        # Not echoed: the address may be as long as the row allows.
        return _("The e-mail address is longer than %(max)d characters.") % {"max": EMAIL_MAX}
    try:
        validate_email(email)
    except ValidationError:
        return _("“%(email)s” is not a valid e-mail address.") % {"email": email}
    return None


def plan_import(*, school_unit: SchoolUnit, text: str) -> ImportPlan:
    """What importing `text` into `school_unit` would do, row by row.

    Three queries whatever the number of rows: the subjects named, the
    teacher accounts with the e-mails named, and their memberships here.
    """
    rows = parse_rows(text)
    codes = {code for row in rows for code in row.subject_codes}
    subjects = {s.code.upper(): s for s in Subject.objects.filter(code__in=codes)}

    seen: dict[str, int] = {}
    for row in rows:
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
        email_error = _email_error(row.email)
        if email_error:
            row.errors.append(email_error)
        if not email_error:
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

    accounts: dict[str, User] = {}
    # The same rule as a single registration (never a principal's own teacher account).
    for user in linkable_teacher_accounts(emails=list(seen)).reverse():
        accounts[user.email_lower] = user  # the oldest account wins, as in registration
    members = {
        membership.user_id: membership
        for membership in school_memberships(school_unit=school_unit).filter(
            user__in=list(accounts.values())
        )
    }
    for row in rows:
        if row.errors:
            row.outcome = Outcome.ERROR
            continue
        row.user = accounts.get(row.email.lower())
        if row.user is None:
            row.outcome = Outcome.NEW
        elif row.user.pk in members:
            row.outcome = Outcome.UPDATED
            row.membership = members[row.user.pk]
        else:
            row.outcome = Outcome.LINKED
    return ImportPlan(rows=rows)
