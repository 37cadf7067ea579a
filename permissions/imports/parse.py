"""Reading a CSV of teachers: its format and its rows (`permissions.imports.plan`
says what importing them would do).

The plan is pure reading (a constant number of queries whatever the row
count); `permissions.imports.apply.csv_import_apply` re-plans inside its
transaction and writes. The file is never trusted between preview and apply:
apply parses and validates the same text again.

Format: a header row `Förnamn;Efternamn;E-post;Ämnen` (required: it tells
the file is what we think it is), then one teacher per row in those four
columns. Separator `;` (Swedish Excel), `,` or a tab. Several subject codes in the
fourth column are separated by spaces, `|`, `,` or `;`. Encodings: UTF-8 (with or
without BOM) or Windows-1252.

The plan says, per teacher, what importing would add, keep and remove: the
membership at this school (new or kept) and each subject, in one of two
modes: "lägg till ämnen" (the file's subjects are added to those the teacher
has here; the default) or "ersätt ämnen" (the teacher's subjects here become
exactly the file's). Teachers not in the file are never touched.
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
from permissions.models import Membership, Subject

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
# Between subject codes: spaces, "|", or "," and ";" as people write lists
# ("GRGRMAT01, GRGRENG01"; in a file whose columns a comma separates, the
# cell is then quoted, as Excel does).
SUBJECT_SEPARATORS = re.compile(r"[\s|,;]+")


class Outcome:
    NEW = "new"
    LINKED = "linked"
    UPDATED = "updated"
    ERROR = "error"


OUTCOME_LABELS = {
    Outcome.NEW: gettext_lazy("New teacher account"),
    # SECURITY: nothing more about an existing account (not its schools, not
    # its huvudman): the file's author learns only that the address has one,
    # and that its teacher must confirm before the membership grants anything.
    Outcome.LINKED: gettext_lazy("Existing account"),
    Outcome.UPDATED: gettext_lazy("Already at this school"),
    Outcome.ERROR: gettext_lazy("Error"),
}


class SubjectMode:
    """What the file's subjects do to a teacher already at this school."""

    ADD = "add"
    REPLACE = "replace"


SUBJECT_MODE_CHOICES = [
    (SubjectMode.ADD, gettext_lazy("Add subjects (keep the ones the teacher already has)")),
    (SubjectMode.REPLACE, gettext_lazy("Replace subjects (the file's subjects only)")),
]


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
    # What importing does at this school: the subjects afterwards, and the
    # codes added, kept and removed (sorted).
    target_subjects: list[Subject] = dataclasses.field(default_factory=list)
    subjects_added: list[str] = dataclasses.field(default_factory=list)
    subjects_kept: list[str] = dataclasses.field(default_factory=list)
    subjects_removed: list[str] = dataclasses.field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])

    @property
    def membership_added(self) -> bool:
        return self.outcome in (Outcome.NEW, Outcome.LINKED)

    @property
    def changes_anything(self) -> bool:
        return self.membership_added or bool(self.subjects_added or self.subjects_removed)

    @property
    def without_subjects(self) -> bool:
        """A valid row that leaves the teacher no subject at this school."""
        return self.outcome != Outcome.ERROR and not self.target_subjects


@dataclasses.dataclass
class ImportPlan:
    rows: list[PlannedRow]
    mode: str = SubjectMode.ADD

    @property
    def errors(self) -> list[PlannedRow]:
        return [row for row in self.rows if row.outcome == Outcome.ERROR]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.errors

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    def summary(self) -> dict[str, int]:
        """Counts for the audit log and the result page."""
        updated = [row for row in self.rows if row.outcome == Outcome.UPDATED]
        return {
            "rows": len(self.rows),
            Outcome.NEW: self.count(Outcome.NEW),
            Outcome.LINKED: self.count(Outcome.LINKED),
            Outcome.UPDATED: len(updated),
            "unchanged": sum(1 for row in updated if not row.changes_anything),
            "subjects_added": sum(len(row.subjects_added) for row in self.rows),
            "subjects_removed": sum(len(row.subjects_removed) for row in self.rows),
            # Teachers left with no subject here see nothing protected.
            "without_subjects": sum(1 for row in self.rows if row.without_subjects),
            Outcome.ERROR: self.count(Outcome.ERROR),
        }


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


# Between columns: what Excel writes in Swedish (;), elsewhere (,), or as
# "Text (tab-separated)". The header row's most frequent one wins, ; on a tie.
DELIMITERS = (";", ",", "\t")


def _delimiter(text: str) -> str:
    first_line = text.lstrip().splitlines()[0] if text.strip() else ""
    return max(DELIMITERS, key=first_line.count)


def _delimiter_name(delimiter: str) -> str:
    return {";": _("semicolon (;)"), ",": _("comma (,)"), "\t": _("tab")}[delimiter]


# The header row, required: each column by the names people give it (compared
# in lower case without spaces, hyphens or underscores).
HEADER = ("Förnamn", "Efternamn", "E-post", "Ämnen")
HEADER_NAMES = (
    {"förnamn", "fornamn", "firstname", "givenname", "tilltalsnamn"},
    {"efternamn", "lastname", "surname", "familyname"},
    {"epost", "epostadress", "email", "emailaddress", "mejl", "mejladress", "mail"},
    {"ämnen", "ämne", "amnen", "amne", "ämneskoder", "ämneskod", "subjects", "subject"},
)


def _header_problem(cells: list[str]) -> str | None:
    """Why the first row is not the header, or None when it is."""
    names = ["".join(cell.lower().replace("-", "").replace("_", "").split()) for cell in cells]
    if len(names) == COLUMNS and all(
        name in allowed for name, allowed in zip(names, HEADER_NAMES, strict=True)
    ):
        return None
    shown = ";".join(cells)
    if len(shown) > 80:
        shown = shown[:80] + "…"
    return _(
        "The first row must be the header row %(header)s (four columns in that order), "
        "so that we know the columns are what we think. The file's first row is: “%(row)s”."
    ) % {"header": ";".join(HEADER), "row": shown}


def parse_rows(text: str) -> list[PlannedRow]:
    """Split the text into rows, checking the shape of each."""
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[PlannedRow] = []
    header_seen = False
    try:
        for number, cells in enumerate(reader, start=1):
            cells = [cell.strip() for cell in cells]
            # Excel pads rows with empty cells when any row is wider; those are no columns.
            while len(cells) > COLUMNS and not cells[-1]:
                cells.pop()
            if not any(cells):
                continue
            if not header_seen:
                problem = _header_problem(cells)
                if problem:
                    raise ImportFileError(problem)
                header_seen = True
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
                other = next((d for d in DELIMITERS if d != delimiter and d in cells[0]), None)
                if len(cells) == 1 and other:
                    row.errors.append(
                        _(
                            "The row seems to separate its columns with %(row)s, the header row "
                            "with %(header)s: use the same in every row."
                        )
                        % {"row": _delimiter_name(other), "header": _delimiter_name(delimiter)}
                    )
            rows.append(row)
    except csv.Error as error:
        # Python's reason is English and technical ("field larger than field
        # limit (131072)"): say in words what is wrong, and where.
        if "field larger than field limit" in str(error):
            reason = _("a cell is far too long (more than %(max)d characters)") % {
                "max": csv.field_size_limit()
            }
        else:
            reason = _("its quotation marks or line breaks do not follow the CSV format")
        raise ImportFileError(
            _("The file could not be read as CSV (line %(line)d): %(reason)s.")
            % {"line": reader.line_num, "reason": reason}
        ) from None
    if not rows:
        raise ImportFileError(_("The file has no teachers in it."))
    return rows


def email_error_of(email: str) -> str | None:
    if len(email) > EMAIL_MAX:
        # Not echoed: the address may be as long as the row allows.
        return _("The e-mail address is longer than %(max)d characters.") % {"max": EMAIL_MAX}
    try:
        validate_email(email)
    except ValidationError:
        return _("“%(email)s” is not a valid e-mail address.") % {"email": email}
    return None
