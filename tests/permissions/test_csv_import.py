import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from permissions.audit import AuditAction, AuditContext
from permissions.csv_import import (
    MAX_BYTES,
    ImportFileError,
    Outcome,
    decode_upload,
    plan_import,
    spreadsheet_safe,
)
from permissions.models import AuditEvent, Membership
from permissions.refusals import Refused
from permissions.services import csv_import_apply
from tests.conftest import END_OF_YEAR, SCHOOL_DAY

pytestmark = pytest.mark.django_db


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
    data = "\ufeffÅsa,Öberg,asa@skola.example,GRGRMAT01|GRGRSVE01\n".encode()
    plan = plan_import(school_unit=grundskola, text=decode_upload(data))
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
    plan = plan_import(school_unit=grundskola, text=text)
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
    plan = plan_import(school_unit=grundskola, text=text)
    assert not plan.is_valid
    (error,) = plan.errors
    assert error.number == 2
    assert message in " ".join(error.errors)


def test_a_duplicate_email_names_the_row_it_repeats(grundskola):
    text = "Bo;Berg;bo@skola.example;\nBo;Berg;BO@skola.example;"
    (error,) = plan_import(school_unit=grundskola, text=text).errors
    assert error.number == 2
    assert "rad 1" in error.errors[0]


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


def test_applying_creates_accounts_memberships_grants_and_events(principal, grundskola):
    imported = csv_import_apply(
        school_unit=grundskola,
        context=AuditContext(actor=principal),
        text=rows(3),
        today=SCHOOL_DAY,
    )
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
        csv_import_apply(
            school_unit=grundskola,
            context=AuditContext(actor=principal),
            text=text,
            today=SCHOOL_DAY,
        )
    assert not User.objects.filter(role=Role.TEACHER).exists()
    assert not AuditEvent.objects.exists()


def test_importing_an_existing_member_sets_the_files_subjects(principal, grundskola, teacher):
    text = f"Larare;Testsson;{teacher.email};GRGRMAT01 GRGRENG01"
    (item,) = csv_import_apply(
        school_unit=grundskola, context=AuditContext(actor=principal), text=text, today=SCHOOL_DAY
    )
    assert item.password is None
    membership = teacher.memberships.get()
    assert set(membership.subjects.values_list("code", flat=True)) == {"GRGRMAT01", "GRGRENG01"}
    event = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_GRANTED)
    assert event.details["added"] == ["GRGRENG01"]
    assert event.details["removed"] == ["GRGRSVE01"]


def apply_counting_queries(principal, grundskola, count: int, start: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        csv_import_apply(
            school_unit=grundskola,
            context=AuditContext(actor=principal),
            text=rows(count, start=start),
            today=SCHOOL_DAY,
        )
    return len(queries)


def test_import_takes_the_same_number_of_queries_for_10_and_40_rows(principal, grundskola):
    # 40 rows (81 audit events) stay below SQLite's 999 parameters per INSERT, so both sizes
    # write each table in one statement on every backend.
    assert apply_counting_queries(principal, grundskola, 10, 0) == apply_counting_queries(
        principal, grundskola, 40, 100
    )


def test_importing_1000_rows_takes_a_bounded_number_of_queries(principal, grundskola):
    # PostgreSQL inserts each table in one statement; SQLite in batches of
    # about 90 rows. Either way far from one query per row.
    assert apply_counting_queries(principal, grundskola, 1000, 0) <= 60
    assert Membership.objects.filter(school_unit=grundskola).count() == 1000


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
)
def test_an_imported_password_works_and_is_rehashed_at_first_login(principal, grundskola):
    (item,) = csv_import_apply(
        school_unit=grundskola,
        context=AuditContext(actor=principal),
        text=rows(1),
        today=SCHOOL_DAY,
    )
    user = User.objects.get(username=item.username)
    assert user.password.startswith("pbkdf2_sha256$1000$")
    assert authenticate(username=item.username, password=item.password) == user
    user.refresh_from_db()
    assert user.password.startswith("md5$")  # the preferred hasher took over


def test_a_first_row_with_a_bad_address_is_reported_not_taken_for_a_header(grundskola):
    plan = plan_import(school_unit=grundskola, text="Ada;Ek;ada-at-skola;GRGRMAT01\n")
    (row,) = plan.rows
    assert row.number == 1
    assert row.outcome == Outcome.ERROR


def test_a_header_row_is_skipped_and_rows_keep_their_file_numbers(grundskola):
    plan = plan_import(
        school_unit=grundskola, text="Förnamn;Efternamn;E-post;Ämnen\nAda;Ek;ada@skola.example;\n"
    )
    (row,) = plan.rows
    assert row.number == 2


def test_empty_cells_excel_pads_a_row_with_are_not_extra_columns(grundskola):
    plan = plan_import(school_unit=grundskola, text="Ada;Ek;ada@skola.example;GRGRMAT01;;\n")
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

    at_limit = plan_import(school_unit=grundskola, text=line(limit))
    assert at_limit.is_valid, at_limit.rows[0].errors
    over = plan_import(school_unit=grundskola, text="Bo;Berg;bo@skola.example;\n" + line(limit + 1))
    (error,) = over.errors
    assert error.number == 2
    assert message in " ".join(error.errors)
    # At the limit it is stored whole, also on PostgreSQL (varchar limits).
    (imported,) = csv_import_apply(
        school_unit=grundskola,
        context=AuditContext(actor=principal),
        text=line(limit),
        today=SCHOOL_DAY,
    )
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


def test_importing_an_existing_account_hides_its_username_and_tells_its_other_school(
    principal, grundskola, gymnasium, teacher
):
    (imported,) = csv_import_apply(
        school_unit=gymnasium,
        context=AuditContext(actor=principal),
        text=f"Larare;Testsson;{teacher.email};MAT",
        today=SCHOOL_DAY,
    )
    assert imported.row.outcome == Outcome.LINKED
    assert imported.username == ""
    shared = AuditEvent.objects.get(action=AuditAction.TEACHER_ACCOUNT_SHARED)
    assert (shared.school_unit, shared.target) == (grundskola, teacher.username)


def test_a_subject_code_named_twice_on_a_row_is_granted_once(principal, grundskola, teacher):
    text = (
        "Nya;Lärare;ny@skola.example;GRGRMAT01 grgrmat01 GRGRSVE01\n"
        f"Larare;Testsson;{teacher.email};GRGRENG01 GRGRENG01"
    )
    plan = plan_import(school_unit=grundskola, text=text)
    assert plan.is_valid
    assert plan.rows[0].subject_codes == ["GRGRMAT01", "GRGRSVE01"]
    csv_import_apply(
        school_unit=grundskola, context=AuditContext(actor=principal), text=text, today=SCHOOL_DAY
    )
    new = Membership.objects.get(user__email="ny@skola.example")
    assert sorted(new.subjects.values_list("code", flat=True)) == ["GRGRMAT01", "GRGRSVE01"]
    assert list(teacher.memberships.get().subjects.values_list("code", flat=True)) == ["GRGRENG01"]
