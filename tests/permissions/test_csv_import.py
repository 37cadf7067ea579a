import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.models import AuditEvent
from core.refusals import Refused
from permissions.imports.apply import csv_import_apply, csv_import_preview
from permissions.imports.parse import (
    MAX_BYTES,
    ImportFileError,
    Outcome,
    SubjectMode,
    decode_upload,
    parse_rows,
    spreadsheet_safe,
)
from permissions.imports.plan import plan_import
from permissions.models import Membership
from tests.conftest import END_OF_YEAR, SCHOOL_DAY

pytestmark = pytest.mark.django_db

HEADER = "Förnamn;Efternamn;E-post;Ämnen\n"


def plan_of(school_unit, body: str, mode: str = SubjectMode.ADD):
    """The plan of a file with the header row and `body`."""
    return plan_import(school_unit=school_unit, text=HEADER + body, mode=mode)


def apply(principal, school_unit, body: str, mode: str = SubjectMode.ADD):
    """Preview (as the upload does) and apply the file, as the principal."""
    context = AuditContext(actor=principal, school_unit=school_unit)
    text = HEADER + body
    token = csv_import_preview(
        school_unit=school_unit,
        context=context,
        text=text,
        plan=plan_import(school_unit=school_unit, text=text, mode=mode),
        mode=mode,
    )
    return csv_import_apply(
        school_unit=school_unit, context=context, token=token, today=SCHOOL_DAY
    ).imported


def rows(count: int, start: int = 0, sep: str = ";") -> str:
    return "\n".join(
        sep.join([f"Anna{i}", f"Åström{i}", f"anna{i}@skola.example", "GRGRMAT01 GRGRSVE01"])
        for i in range(start, start + count)
    )


def test_swedish_excel_csv_in_windows_1252_with_semicolons_is_read():
    data = "Förnamn;Efternamn;E-post;Ämnen\r\nÅsa;Öberg;asa@skola.example;GRGRMAT01\r\n"
    text = decode_upload(data.encode("cp1252"))
    assert "Åsa;Öberg" in text


def test_utf8_with_bom_and_commas_is_read(grundskola):
    data = "\ufeffFörnamn,Efternamn,E-post,Ämnen\nÅsa,Öberg,asa@skola.example,GRGRMAT01|GRGRSVE01\n"
    plan = plan_import(school_unit=grundskola, text=decode_upload(data.encode()))
    (row,) = plan.rows
    assert (row.first_name, row.last_name) == ("Åsa", "Öberg")
    assert row.subject_codes == ["GRGRMAT01", "GRGRSVE01"]
    assert row.outcome == Outcome.NEW


def test_rows_are_planned_as_new_linked_or_updated(grundskola, teacher, gymnasium):
    from tests.conftest import make_user

    elsewhere = make_user("annan", Role.TEACHER)
    Membership.objects.create(user=elsewhere, school_unit=gymnasium, valid_until=END_OF_YEAR)
    text = "\n".join(
        [
            "Ny;Nysson;ny@skola.example;GRGRMAT01",
            f"Annan;Testsson;{elsewhere.email};GRGRMAT01",
            f"Larare;Testsson;{teacher.email};GRGRENG01",
        ]
    )
    plan = plan_of(grundskola, text)
    assert [row.outcome for row in plan.rows] == [Outcome.NEW, Outcome.LINKED, Outcome.UPDATED]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Ann;Ek;inte-en-adress;GRGRMAT01", "inte en giltig e-postadress"),
        ("Ann;Ek;ann@skola.example;XYZ99", "Okänd ämneskod: XYZ99"),
        ("Ann;Ek;ann@skola.example;GRGRMAT01;extra", "För många kolumner (5)"),
        (";Ek;ann@skola.example;GRGRMAT01", "Förnamn saknas"),
        ("Ann\x01;Ek;ann@skola.example;GRGRMAT01", "osynliga tecken eller styrtecken"),
        ("Ann\u202e;Ek;ann@skola.example;GRGRMAT01", "osynliga tecken eller styrtecken"),
    ],
)
def test_a_bad_row_is_named_with_its_number_and_reason(grundskola, line, message):
    text = "Bo;Berg;bo@skola.example;GRGRMAT01\n" + line
    plan = plan_of(grundskola, text)
    assert not plan.is_valid
    (error,) = plan.errors
    assert error.number == 3  # the file's line: the header is line 1
    assert message in " ".join(error.errors)


def test_a_duplicate_email_names_the_row_it_repeats(grundskola):
    text = "Bo;Berg;bo@skola.example;\nBo;Berg;BO@skola.example;"
    (error,) = plan_of(grundskola, text).errors
    assert error.number == 3
    assert "rad 2" in error.errors[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Filen är tom"),
        (b"  \r\n", "Filen är tom"),
        (b"PK\x03\x04\x00\x00binary", "inte en CSV-fil"),
        (b"x" * (MAX_BYTES + 1), "för stor"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_clear_message(data, message):
    with pytest.raises(ImportFileError, match=message):
        decode_upload(data)


def test_a_cell_longer_than_csv_allows_is_explained_in_swedish_with_its_line():
    text = HEADER + "Bo;Berg;bo@skola.example;MAT\n" + '"' + "x" * 140_000 + '";a;b;c\n'
    with pytest.raises(ImportFileError) as refused:
        parse_rows(text)
    message = str(refused.value)
    assert "rad 3" in message and "en cell är alldeles för lång" in message
    assert "field limit" not in message


def test_applying_creates_accounts_memberships_grants_and_events(principal, grundskola):
    imported = apply(principal, grundskola, rows(3))
    assert len(imported) == 3
    assert all(item.password for item in imported)
    users = User.objects.filter(email__startswith="anna", role=Role.TEACHER)
    assert users.count() == 3
    membership = Membership.objects.get(user__email="anna0@skola.example")
    assert membership.valid_until == END_OF_YEAR
    assert set(membership.subjects.values_list("code", flat=True)) == {"GRGRMAT01", "GRGRSVE01"}
    assert AuditEvent.objects.filter(action=AuditAction.MEMBERSHIP_REGISTERED).count() == 3
    assert AuditEvent.objects.filter(action=AuditAction.TEACHERS_IMPORTED).count() == 1


def test_applying_a_file_with_one_bad_row_saves_nothing(principal, grundskola):
    text = rows(3) + "\nBad;Row;not-an-address;GRGRMAT01"
    with pytest.raises(Refused):
        apply(principal, grundskola, text)
    assert not User.objects.filter(role=Role.TEACHER).exists()
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["import_previewed"]


def test_importing_an_existing_member_adds_the_files_subjects_by_default(
    principal, grundskola, teacher
):
    text = f"Larare;Testsson;{teacher.email};GRGRMAT01 GRGRENG01"
    (row,) = plan_of(grundskola, text).rows
    assert (row.subjects_added, row.subjects_kept, row.subjects_removed) == (
        ["GRGRENG01"],
        ["GRGRMAT01", "GRGRSVE01"],
        [],
    )
    (item,) = apply(principal, grundskola, text)
    assert item.password is None
    membership = teacher.memberships.get()
    assert set(membership.subjects.values_list("code", flat=True)) == {
        "GRGRMAT01",
        "GRGRSVE01",
        "GRGRENG01",
    }
    event = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_GRANTED)
    assert (event.details["added"], event.details["removed"]) == (["GRGRENG01"], [])


def test_replace_mode_names_and_removes_the_subjects_not_in_the_file(
    principal, grundskola, teacher
):
    text = f"Larare;Testsson;{teacher.email};GRGRMAT01 GRGRENG01"
    (row,) = plan_of(grundskola, text, mode=SubjectMode.REPLACE).rows
    assert (row.subjects_added, row.subjects_kept, row.subjects_removed) == (
        ["GRGRENG01"],
        ["GRGRMAT01"],
        ["GRGRSVE01"],
    )
    apply(principal, grundskola, text, mode=SubjectMode.REPLACE)
    membership = teacher.memberships.get()
    assert set(membership.subjects.values_list("code", flat=True)) == {"GRGRMAT01", "GRGRENG01"}
    event = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_GRANTED)
    assert event.details["removed"] == ["GRGRSVE01"]
    assert event.details["csv_row"] == 2


def apply_counting_queries(principal, grundskola, count: int, start: int) -> int:
    context = AuditContext(actor=principal, school_unit=grundskola)
    text = HEADER + rows(count, start=start)
    token = csv_import_preview(
        school_unit=grundskola,
        context=context,
        text=text,
        plan=plan_import(school_unit=grundskola, text=text),
        mode=SubjectMode.ADD,
    )
    with CaptureQueriesContext(connection) as queries:
        csv_import_apply(school_unit=grundskola, context=context, token=token, today=SCHOOL_DAY)
    return len(queries)


def test_import_takes_the_same_number_of_queries_for_10_and_40_rows(principal, grundskola):
    # 40 rows (81 audit events) stay below SQLite's 999 parameters per INSERT, so both sizes
    # write each table in one statement on every backend.
    assert apply_counting_queries(principal, grundskola, 10, 0) == apply_counting_queries(
        principal, grundskola, 40, 100
    )


def test_importing_1000_rows_takes_a_bounded_number_of_queries(principal, grundskola):
    # PostgreSQL inserts each table in one statement; SQLite in batches (of
    # fewer rows the more columns a table has). Either way far from one query
    # per row.
    limit = 30 if connection.vendor == "postgresql" else 80
    assert apply_counting_queries(principal, grundskola, 1000, 0) <= limit
    assert Membership.objects.filter(school_unit=grundskola).count() == 1000


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
)
def test_an_imported_password_works_and_is_rehashed_at_first_login(principal, grundskola):
    (item,) = apply(principal, grundskola, rows(1))
    user = User.objects.get(username=item.username)
    assert user.password.startswith("pbkdf2_sha256$100$")
    assert authenticate(username=item.username, password=item.password) == user
    user.refresh_from_db()
    assert user.password.startswith("md5$")  # the preferred hasher took over


@pytest.mark.parametrize(
    "first",
    [
        "Ada;Ek;ada-at-skola;GRGRMAT01",  # a teacher with a mistyped address
        "Namn;Mail;Ämnen",  # three columns
        "Förnamn;Efternamn;Ämnen;E-post",  # the wrong order
    ],
)
def test_a_file_without_a_valid_header_row_is_refused_with_a_clear_message(grundskola, first):
    with pytest.raises(ImportFileError, match="Förnamn;Efternamn;E-post;Ämnen") as refused:
        plan_import(school_unit=grundskola, text=first + "\nBo;Berg;bo@skola.example;\n")
    assert first in str(refused.value)


def test_a_header_row_is_skipped_and_rows_keep_their_file_numbers(grundskola):
    plan = plan_import(
        school_unit=grundskola,
        text="first name,LAST NAME,e-mail,subjects\nAda,Ek,ada@skola.example,\n",
    )
    (row,) = plan.rows
    assert row.number == 2


def test_empty_cells_excel_pads_a_row_with_are_not_extra_columns(grundskola):
    plan = plan_of(grundskola, "Ada;Ek;ada@skola.example;GRGRMAT01;;\n")
    assert plan.is_valid


# --- Lengths the database holds -----------------------------------------------------------


def long_email(length: int) -> str:
    """A valid address of exactly `length` characters (labels of at most 63)."""
    labels, room = [], length - len("a@") - len(".se")
    while room > 0:
        labels.append("d" * min(room, 60))
        room -= min(room, 60) + 1
    return "a@" + ".".join(labels) + ".se"


@pytest.mark.parametrize(
    ("column", "limit", "message"),
    [
        (0, 150, "Förnamnet är längre än 150 tecken"),
        (1, 150, "Efternamnet är längre än 150 tecken"),
        (2, 254, "E-postadressen är längre än 254 tecken"),
    ],
)
def test_a_value_longer_than_the_database_holds_is_a_row_error(
    principal, grundskola, column, limit, message
):
    def line(length):
        cells = ["Åsa", "Öberg", "asa@skola.example", "GRGRMAT01"]
        cells[column] = long_email(length) if column == 2 else "Å" * length
        return ";".join(cells)

    at_limit = plan_of(grundskola, line(limit))
    assert at_limit.is_valid, at_limit.rows[0].errors
    over = plan_of(grundskola, "Bo;Berg;bo@skola.example;\n" + line(limit + 1))
    (error,) = over.errors
    assert error.number == 3
    assert message in " ".join(error.errors)
    # At the limit it is stored whole, also on PostgreSQL (varchar limits).
    (imported,) = apply(principal, grundskola, line(limit))
    user = User.objects.get(username=imported.username)
    assert len([user.first_name, user.last_name, user.email][column]) == limit


# --- The result report is safe to open in Excel --------------------------------------------


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+46701234567", "'+46701234567"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Åsa", "Åsa"),
        ("anna-lena@skola.example", "anna-lena@skola.example"),
        (12, "12"),
    ],
)
def test_cells_that_would_start_a_formula_are_made_text(cell, safe):
    assert spreadsheet_safe(cell) == safe


# --- Linking existing accounts ------------------------------------------------------------


def test_importing_an_existing_account_hides_its_username_and_tells_nobody_yet(
    principal, grundskola, gymnasium, teacher
):
    (imported,) = apply(principal, gymnasium, f"Larare;Testsson;{teacher.email};MAT")
    assert imported.row.outcome == Outcome.LINKED
    assert imported.username == ""
    # The other school learns of it when the teacher confirms (test_no_silent_linking).
    assert not AuditEvent.objects.filter(action=AuditAction.TEACHER_ACCOUNT_SHARED).exists()


def test_a_subject_code_named_twice_on_a_row_is_granted_once(principal, grundskola, teacher):
    text = (
        "Nya;Lärare;ny@skola.example;GRGRMAT01 grgrmat01 GRGRSVE01\n"
        f"Larare;Testsson;{teacher.email};GRGRENG01 GRGRENG01"
    )
    plan = plan_of(grundskola, text)
    assert plan.is_valid
    assert plan.rows[0].subject_codes == ["GRGRMAT01", "GRGRSVE01"]
    apply(principal, grundskola, text)
    new = Membership.objects.get(user__email="ny@skola.example")
    assert sorted(new.subjects.values_list("code", flat=True)) == ["GRGRMAT01", "GRGRSVE01"]
    assert sorted(teacher.memberships.get().subjects.values_list("code", flat=True)) == [
        "GRGRENG01",
        "GRGRMAT01",
        "GRGRSVE01",
    ]


# --- A preview is bound to one upload -----------------------------------------------------


def preview(principal, school_unit, body: str) -> str:
    text = HEADER + body
    return csv_import_preview(
        school_unit=school_unit,
        context=AuditContext(actor=principal, school_unit=school_unit),
        text=text,
        plan=plan_import(school_unit=school_unit, text=text),
        mode=SubjectMode.ADD,
    )


def apply_token(principal, school_unit, token: str):
    return csv_import_apply(
        school_unit=school_unit,
        context=AuditContext(actor=principal, school_unit=school_unit),
        token=token,
        today=SCHOOL_DAY,
    )


def test_a_newer_preview_makes_the_older_token_stale(principal, grundskola):
    first = preview(principal, grundskola, rows(1))
    second = preview(principal, grundskola, rows(1, start=5))
    with pytest.raises(Refused) as stale:
        apply_token(principal, grundskola, first)
    assert stale.value.code == "import_preview_stale"
    apply_token(principal, grundskola, second)
    assert User.objects.filter(email="anna5@skola.example").exists()
    assert not User.objects.filter(email="anna0@skola.example").exists()


def test_a_token_is_used_up_by_applying_and_expires_after_an_hour(principal, grundskola):
    import datetime

    import time_machine
    from django.utils import timezone

    token = preview(principal, grundskola, rows(1))
    apply_token(principal, grundskola, token)
    with pytest.raises(Refused):
        apply_token(principal, grundskola, token)  # a double click imports once
    old = preview(principal, grundskola, rows(1, start=3))
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)),
        pytest.raises(Refused),
    ):
        apply_token(principal, grundskola, old)


def test_a_token_is_for_its_own_person_and_school(principal, grundskola, gymnasium, test_admin):
    token = preview(principal, grundskola, rows(1))
    with pytest.raises(Refused):
        apply_token(principal, gymnasium, token)
    with pytest.raises(Refused):
        apply_token(test_admin, grundskola, token)


def test_every_preview_is_audited_and_an_existing_account_is_only_an_existing_account(
    principal, grundskola, other_school
):
    from tests.conftest import make_user

    elsewhere = make_user("borta", Role.TEACHER)
    Membership.objects.create(user=elsewhere, school_unit=other_school, valid_until=END_OF_YEAR)
    body = f"Borta;Testsson;{elsewhere.email};GRGRMAT01"
    (row,) = plan_of(grundskola, body).rows
    assert row.outcome_label == "Befintligt konto"
    preview(principal, grundskola, body)
    event = AuditEvent.objects.get(action=AuditAction.IMPORT_PREVIEWED)
    assert (event.school_unit, event.actor_username) == (grundskola, principal.username)
    assert event.details["linked"] == 1 and len(event.details["sha256"]) == 64


def test_a_row_whose_address_had_its_codes_this_hour_is_an_error_in_the_preview(
    principal, gymnasium, teacher
):
    """The apply would refuse the whole file (the 5-an-hour limit of
    confirmation codes, `memberships_register`); the preview names the row."""
    from core.ratelimit import rate_limit_hit
    from permissions.models import EmailCodePurpose
    from permissions.services.codes import _code_mail_keys

    (key,) = _code_mail_keys([teacher], EmailCodePurpose.CONFIRM_MEMBERSHIP)
    for _ in range(5):
        assert rate_limit_hit(scope="email_code", keys={key: 5})
    plan = plan_of(gymnasium, f"Larare;Testsson;{teacher.email};MAT\nNy;Person;ny@x.example;MAT")
    first, second = plan.rows
    assert first.outcome == Outcome.ERROR
    assert f"För många bekräftelsekoder har skickats till {teacher.email}" in first.errors[0]
    assert second.outcome == Outcome.NEW


def test_a_tab_separated_file_imports_like_a_semicolon_one(principal, grundskola):
    """Excel's "Text (tab-separated)": found by black-box walk 3, which read
    the header quoted back as one column."""
    text = "Förnamn\tEfternamn\tE-post\tÄmnen\nAda\tEk\tada@skola.example\tGRGRMAT01 GRGRSVE01\n"
    plan = plan_import(school_unit=grundskola, text=text)
    (row,) = plan.rows
    assert (row.outcome, row.email, row.subject_codes) == (
        Outcome.NEW,
        "ada@skola.example",
        ["GRGRMAT01", "GRGRSVE01"],
    )


def test_a_row_with_another_separator_than_the_header_says_so(principal, grundskola):
    plan = plan_of(grundskola, "Ada,Ek,ada@skola.example,GRGRMAT01\nBo;Al;bo@skola.example;")
    first, second = plan.rows
    assert first.outcome == Outcome.ERROR
    assert "Raden verkar skilja kolumnerna åt med komma (,), rubrikraden med semikolon (;)" in (
        " ".join(first.errors)
    )
    assert not any("Raden verkar" in error for error in second.errors)
