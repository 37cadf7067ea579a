import base64
import datetime
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role, User
from audit.actions import AuditAction
from audit.models import AuditEvent
from permissions.models import Membership
from tests.conftest import END_OF_YEAR, verify_session
from tests.fixtures.staff import make_teachers

pytestmark = pytest.mark.django_db

STOCKHOLM_NOON = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def school_day():
    with time_machine.travel(STOCKHOLM_NOON, tick=False):
        yield


def url(school, rest=""):
    return f"/e-tjanster/skolor/{school.code}/larare/{rest}"


def pdf_from_data_url(html: str) -> PdfReader:
    match = re.search(r'href="data:application/pdf;base64,([^"]+)"', html)
    assert match, "no PDF download link on the page"
    return PdfReader(io.BytesIO(base64.b64decode(match.group(1))))


def pdf_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def shown_password(response) -> str:
    """The new password on the page that shows it once."""
    assert response.status_code == 200
    match = re.search(r"Lösenord</dt><dd><code>([^<]+)</code>", response.content.decode())
    assert match, "no new password on the page"
    return match.group(1)


# --- The list -------------------------------------------------------------------------


def table_row(html: str, username: str) -> str:
    """The list's <tr> of one teacher (the status filter also says "Aktiv")."""
    rows = [row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if f'value="{username}"' in row]
    assert len(rows) == 1, f"expected one row for {username}"
    return rows[0]


def test_teacher_list_shows_name_username_subjects_and_state(principal_client, grundskola, teacher):
    expired = make_teachers(grundskola, 1, prefix="old")[0].user
    Membership.objects.filter(user=expired).update(valid_until=datetime.date(2026, 7, 31))
    html = principal_client.get(url(grundskola)).content.decode()
    row = table_row(html, teacher.username)
    assert "Testsson, Larare" in row
    assert "Matematik" in row
    assert re.search(r'class="tag tag-ok">\s*Aktivt\s*<', row)
    expired_row = table_row(html, expired.username)
    assert "tag-ok" not in expired_row
    assert "Väntar på återaktivering" in expired_row


def list_queries(client, school) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(school)).status_code == 200
    return len(queries)


def test_teacher_list_takes_the_same_number_of_queries_for_10_and_300_teachers(
    principal_client, grundskola
):
    make_teachers(grundskola, 10, prefix="a")
    ten = list_queries(principal_client, grundskola)
    make_teachers(grundskola, 290, prefix="b")
    assert list_queries(principal_client, grundskola) == ten


def test_teacher_list_counts_its_rows_without_joining_the_accounts(principal_client, grundskola):
    """The pager's count reads the memberships alone: sorting by the name the
    school knows must not drag the user table into it."""
    make_teachers(grundskola, 3)
    with CaptureQueriesContext(connection) as captured:
        principal_client.get(url(grundskola))
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
    assert any("permissions_membership" in sql for sql in counts), counts
    for sql in counts:
        if "permissions_membership" in sql:
            assert "accounts_user" not in sql, sql


def test_teacher_list_shows_pages_of_100(principal_client, grundskola):
    make_teachers(grundskola, 150)
    first = principal_client.get(url(grundskola)).content.decode()
    assert first.count('name="teacher"') == 100
    assert "Sida 1 av 2" in first
    second = principal_client.get(url(grundskola) + "?page=2").content.decode()
    assert second.count('name="teacher"') == 50


def test_teacher_list_searches_by_name_username_and_email(principal_client, grundskola, teacher):
    make_teachers(grundskola, 5)
    for query in ("Larare", teacher.username, "larare@example"):
        html = principal_client.get(url(grundskola), {"q": query}).content.decode()
        assert html.count('name="teacher"') == 1, query


def test_teacher_list_filters_by_state(principal_client, grundskola, teacher):
    make_teachers(grundskola, 3, valid_until=datetime.date(2026, 7, 31), prefix="old")
    teacher.memberships.get().subjects.clear()
    html = principal_client.get(url(grundskola), {"state": "awaiting_reactivation"})
    assert html.content.decode().count('name="teacher"') == 3
    html = principal_client.get(url(grundskola), {"state": "no_subjects"}).content.decode()
    assert html.count('name="teacher"') == 1
    assert teacher.username in html


def test_teacher_list_sorts_by_validity(principal_client, grundskola, teacher):
    make_teachers(grundskola, 1, valid_until=datetime.date(2026, 7, 31), prefix="old")
    old, current = "<code>old000000</code>", f"<code>{teacher.username}</code>"
    html = principal_client.get(url(grundskola), {"sort": "valid_until"}).content.decode()
    assert html.index(old) < html.index(current)
    html = principal_client.get(url(grundskola), {"sort": "-valid_until"}).content.decode()
    assert html.index(old) > html.index(current)


def test_every_state_and_order_lists_the_teachers_it_should(principal_client, grundskola, teacher):
    """Each state filter and order is a statement of its own (compiled once,
    etjanster.views.teacher_list): every one runs and finds what the filter says."""
    make_teachers(grundskola, 2, valid_until=datetime.date(2026, 7, 31), prefix="old")
    expected = {"": 3, "active": 1, "awaiting_reactivation": 2, "no_subjects": 0}
    expected["awaiting_confirmation"] = 0
    for state, count in expected.items():
        for sort in ("name", "-name", "username", "valid_until", "-valid_until"):
            html = principal_client.get(url(grundskola), {"state": state, "sort": sort})
            assert html.content.decode().count('name="teacher"') == count, (state, sort)
    # Each order's own sequence, the list of a page as the ORM orders it.
    html = principal_client.get(url(grundskola), {"sort": "-name"}).content.decode()
    assert html.index("<code>old000001</code>") < html.index("<code>old000000</code>")


def test_a_bad_sort_or_page_shows_the_list_not_an_error(principal_client, grundskola, teacher):
    response = principal_client.get(url(grundskola), {"sort": "password", "page": "x"})
    assert response.status_code == 200
    html = response.content.decode()
    # (The unknown sort is named as a mistake above the list: the title starts "Fel: ".)
    assert "Lärare – Testskolan F–9 – Behörighetsportalen</title>" in html
    assert "Testsson, Larare" in table_row(html, teacher.username)


# --- Registering ------------------------------------------------------------------------


def test_principal_registers_a_teacher_and_gets_the_password_once_with_a_slip(
    principal_client, grundskola
):
    response = principal_client.post(
        url(grundskola, "ny/"),
        {
            "first_name": "Nora",
            "last_name": "Nysson",
            "email": "nora@skola.example",
            "subjects": ["GRGRMAT01", "GRGRSVE01"],
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    user = User.objects.get(email="nora@skola.example")
    html = response.content.decode()
    password = re.search(r"Lösenord</dt><dd><code>([^<]+)</code>", html).group(1)
    assert user.check_password(password)
    text = pdf_text(pdf_from_data_url(html))
    assert user.username in text
    assert password in text
    assert "/bedomningsportalen/logga-in/" in text
    assert "Nora Nysson" in text
    # The password is nowhere else: the teacher's page does not show it again.
    detail = principal_client.get(url(grundskola, f"{user.username}/")).content.decode()
    assert password not in detail


def test_registering_a_teacher_of_another_school_links_and_says_so(
    principal_client, gymnasium, teacher
):
    response = principal_client.post(
        url(gymnasium, "ny/"),
        {"first_name": "L", "last_name": "T", "email": teacher.email, "subjects": ["MAT"]},
    )
    html = response.content.decode()
    assert "redan ett lärarkonto" in html
    assert "väntar på lärarens bekräftelse" in html
    assert "Lösenord</dt>" not in html
    # No slip for a link that waits for the teacher's code.
    assert "data:application/pdf" not in html
    assert teacher.memberships.count() == 2
    # It grants nothing until the teacher confirms with the code mailed to the account.
    pending = teacher.memberships.get(school_unit=gymnasium)
    assert pending.confirmed_at is None
    listed = principal_client.get(url(gymnasium, "")).content.decode()
    assert "Väntar på lärarens bekräftelse" in listed


def test_registering_without_subjects_warns(principal_client, grundskola):
    response = principal_client.post(
        url(grundskola, "ny/"), {"first_name": "A", "last_name": "B", "email": "ab@skola.example"}
    )
    assert "Inget ämne valdes" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "inte-en-adress"}, "giltig e-postadress"),
        ({"subjects": ["NOPE"]}, "NOPE"),
        ({"first_name": ""}, "måste fyllas i"),
        ({"last_name": "B\u202eA"}, "styrtecken"),
        ({"first_name": "A\x07"}, "styrtecken"),
    ],
)
def test_bad_registration_input_is_explained_and_nothing_is_saved(
    principal_client, grundskola, data, message
):
    form = {"first_name": "A", "last_name": "B", "email": "ab@skola.example", **data}
    response = principal_client.post(url(grundskola, "ny/"), form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(role=Role.TEACHER).exists()


def test_registering_the_same_teacher_twice_is_explained(principal_client, grundskola, teacher):
    response = principal_client.post(
        url(grundskola, "ny/"), {"first_name": "A", "last_name": "B", "email": teacher.email}
    )
    assert "redan registrerad som lärare" in response.content.decode()


def test_registering_mails_the_slip_when_asked(principal_client, grundskola, mailoutbox):
    from tests.conftest import deliver_mail

    page = principal_client.post(
        "/en" + url(grundskola, "ny/"),
        {"first_name": "M", "last_name": "M", "email": "m@skola.example", "send_email": "on"},
    ).content.decode()
    assert mailoutbox == []  # queued, not sent by the request
    # ... and the page says so, not that it was sent.
    assert "The slip is queued to be e-mailed to m@skola.example" in page
    assert "was also e-mailed" not in page
    deliver_mail()
    (mail,) = mailoutbox
    assert mail.to == ["m@skola.example"]
    assert mail.attachments[0][2] == "application/pdf"


def test_register_me_as_teacher_makes_a_separate_account(principal_client, principal, grundskola):
    response = principal_client.post(url(grundskola, "mig-sjalv/"))
    html = response.content.decode()
    mine = User.objects.get(role=Role.TEACHER, email=principal.email)
    assert mine.username != principal.username
    assert mine.username in html
    assert "Lösenord</dt>" in html


# --- The teacher's page -----------------------------------------------------------------


def test_subjects_are_granted_and_revoked_on_the_teachers_page(
    principal_client, grundskola, teacher
):
    response = principal_client.post(
        url(grundskola, "larare/"), {"subjects": ["GRGRENG01", "GRGRMAT01"]}
    )
    assert response.status_code == 302
    codes = set(teacher.memberships.get().subjects.values_list("code", flat=True))
    assert codes == {"GRGRENG01", "GRGRMAT01"}


def test_test_admin_sees_no_remove_button_and_is_refused(test_admin_client, grundskola, teacher):
    html = test_admin_client.get(url(grundskola, "larare/")).content.decode()
    assert "ta-bort" not in html
    assert (
        test_admin_client.post(url(grundskola, "larare/ta-bort/"), {"confirm": "yes"}).status_code
        == 403
    )
    assert teacher.memberships.filter(removed_at__isnull=True).exists()


def test_test_admin_registers_a_teacher(test_admin_client, grundskola):
    response = test_admin_client.post(
        url(grundskola, "ny/"), {"first_name": "P", "last_name": "Q", "email": "pq@skola.example"}
    )
    assert response.status_code == 200
    assert Membership.objects.filter(user__email="pq@skola.example").exists()


def test_principal_removes_the_last_membership_and_the_teacher_is_logged_out(
    principal_client, grundskola, teacher, teacher_client
):
    assert teacher_client.get("/").wsgi_request.user.is_authenticated
    response = principal_client.post(
        "/en" + url(grundskola, "larare/ta-bort/"), {"confirm": "yes"}, follow=True
    )
    assert "the account is closed and is deleted after 30 days" in response.content.decode()
    assert User.objects.get(pk=teacher.pk).removed_at is not None
    assert not teacher_client.get("/").wsgi_request.user.is_authenticated


def test_a_new_password_is_shown_once_and_works(principal_client, grundskola, teacher):
    response = principal_client.post(url(grundskola, "larare/losenord/"), {"confirm": "yes"})
    html = response.content.decode()
    password = re.search(r"Lösenord</dt><dd><code>([^<]+)</code>", html).group(1)
    teacher.refresh_from_db()
    assert teacher.check_password(password)
    assert password in pdf_text(pdf_from_data_url(html))


def test_reactivation_before_1_august_is_refused_with_a_clear_message(
    principal_client, grundskola, teacher
):
    response = principal_client.post(url(grundskola, "larare/ateraktivera/"), follow=True)
    assert "Återaktivering öppnar den 1 augusti" in response.content.decode()


def test_a_slip_without_password_is_a_pdf(principal_client, grundskola, teacher):
    response = principal_client.post(url(grundskola, "larare/lapp/"))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(PdfReader(io.BytesIO(response.content)))
    assert teacher.username in text
    assert "larare-password" not in text


def test_every_change_on_the_pages_is_in_the_schools_log(principal_client, grundskola, teacher):
    principal_client.post(url(grundskola, "larare/"), {"subjects": ["GRGRENG01"]})
    principal_client.post(url(grundskola, "larare/losenord/"), {"confirm": "yes"})
    html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/logg/").content.decode()
    assert "Lösenord" in html
    assert teacher.username in html
    assert sorted(
        AuditEvent.objects.filter(school_unit=grundskola).values_list("action", flat=True)
    ) == [
        "membership_granted",
        "password_regenerated",
        "sessions_ended",
    ]


def test_home_counts_teachers_by_state_in_a_constant_number_of_queries(
    principal_client, grundskola, gymnasium, teacher
):
    def home_queries():
        with CaptureQueriesContext(connection) as queries:
            response = principal_client.get("/e-tjanster/")
        return len(queries), response.content.decode()

    few, _html = home_queries()
    make_teachers(grundskola, 4, prefix="a")
    make_teachers(gymnasium, 2, valid_until=datetime.date(2026, 7, 31), prefix="b")
    many, html = home_queries()
    assert few == many
    # Testgymnasiet first (by name): 2 awaiting; then Testskolan: 5 active.
    cells = re.findall(r"<td>(?:<a [^>]+>)?(\d+)", html)
    assert cells == ["0", "2", "0", "0", "5", "0", "0", "0"]


def test_home_counts_a_teacher_without_subjects_apart_from_the_active(
    principal_client, grundskola, teacher
):
    teacher.memberships.get().subjects.clear()
    html = principal_client.get("/e-tjanster/").content.decode()
    # Testgymnasiet: nothing; Testskolan: 0 active, 0 awaiting, 1 without subjects.
    cells = re.findall(r"<td>(?:<a [^>]+>)?(\d+)", html)
    assert cells == ["0", "0", "0", "0", "0", "0", "1", "0"]
    assert f"/e-tjanster/skolor/{grundskola.code}/larare/?state=no_subjects" in html


# --- A shared teacher account: who may give it a new password ---------------------------


@pytest.fixture
def other_principal_client(other_principal):
    return verify_session(Client(), other_principal)


def link_at_other_school(other_principal_client, other_school, teacher):
    """Another huvudman's principal registers the teacher's e-mail: a link."""
    return other_principal_client.post(
        url(other_school, "ny/"),
        {"first_name": "Vem", "last_name": "Som helst", "email": teacher.email},
    )


def test_linking_an_existing_account_does_not_show_its_username(
    other_principal_client, other_school, teacher
):
    response = link_at_other_school(other_principal_client, other_school, teacher)
    html = response.content.decode()
    assert response.status_code == 200
    assert "redan ett lärarkonto" in html
    assert f"<code>{teacher.username}</code>" not in html
    # No slip: the link waits for the code mailed to the teacher, which a
    # slip saying "use the login you have" would say nothing of.
    assert "data:application/pdf" not in html


def test_a_link_not_yet_confirmed_tells_the_teachers_school_nothing(
    other_principal_client, other_principal, other_school, grundskola, teacher, principal_client
):
    """PRIVACY: another organisation typing the address is not shown to the
    teacher's school (nor that organisation's principal or address) before
    the teacher agrees (`tests/permissions/test_no_silent_linking.py`)."""
    link_at_other_school(other_principal_client, other_school, teacher)
    assert AuditEvent.objects.filter(
        action=AuditAction.MEMBERSHIP_REGISTERED, school_unit=other_school
    ).exists()
    assert not AuditEvent.objects.filter(
        school_unit=grundskola, actor_username=other_principal.username
    ).exists()
    log = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/logg/").content.decode()
    assert other_school.name not in log
    assert other_principal.username not in log


def test_a_principal_cannot_give_a_new_password_to_a_teacher_shared_with_another_huvudman(
    other_principal_client, other_school, teacher
):
    link_at_other_school(other_principal_client, other_school, teacher)
    old_hash = User.objects.get(pk=teacher.pk).password
    page = other_principal_client.get(url(other_school, f"{teacher.username}/")).content.decode()
    assert "/losenord/" not in page
    assert "Nytt lösenord" not in page
    response = other_principal_client.post(
        url(other_school, f"{teacher.username}/losenord/"), {"confirm": "yes"}
    )
    assert response.status_code == 403
    assert "data:application/pdf" not in response.content.decode()
    assert User.objects.get(pk=teacher.pk).password == old_hash
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_REGENERATED).exists()


def test_the_teachers_own_principal_cannot_either_once_the_account_is_shared(
    principal_client, other_principal_client, grundskola, other_school, teacher
):
    link_at_other_school(other_principal_client, other_school, teacher)
    # The teacher confirms the other school (with the mailed code and a password
    # of their own); while it only waited, nothing changed here.
    Membership.objects.filter(user=teacher, school_unit=other_school).update(
        confirmed_at=timezone.now()
    )
    old_hash = User.objects.get(pk=teacher.pk).password
    response = principal_client.post(
        url(grundskola, f"{teacher.username}/losenord/"), {"confirm": "yes"}
    )
    assert response.status_code == 403
    assert "Skicka i stället en kod till läraren" in response.content.decode()
    assert User.objects.get(pk=teacher.pk).password == old_hash
    page = principal_client.get(url(grundskola, f"{teacher.username}/")).content.decode()
    assert "en skola som du inte administrerar" in page


def test_a_principal_of_all_the_teachers_schools_gives_a_new_password(
    principal_client, grundskola, gymnasium, teacher
):
    Membership.objects.create(user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR)
    page = principal_client.get(url(gymnasium, f"{teacher.username}/")).content.decode()
    assert "Nytt lösenord" in page
    response = principal_client.post(
        url(gymnasium, f"{teacher.username}/losenord/"), {"confirm": "yes"}
    )
    assert response.status_code == 200
    password = re.search(r"Lösenord</dt><dd><code>([^<]+)</code>", response.content.decode())
    teacher.refresh_from_db()
    assert teacher.check_password(password.group(1))


def test_a_removed_membership_elsewhere_does_not_block_a_new_password(
    principal_client, grundskola, other_school, teacher
):
    Membership.objects.create(
        user=teacher,
        school_unit=other_school,
        valid_until=END_OF_YEAR,
        removed_at=datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC),
    )
    response = principal_client.post(
        url(grundskola, f"{teacher.username}/losenord/"), {"confirm": "yes"}
    )
    password = shown_password(response)
    teacher.refresh_from_db()
    assert teacher.check_password(password)
    assert not teacher.check_password("larare-password-1234")


def test_a_test_admin_gives_a_new_password_only_to_teachers_of_its_own_school_alone(
    test_admin_client, grundskola, gymnasium, teacher
):
    response = test_admin_client.post(url(grundskola, "larare/losenord/"), {"confirm": "yes"})
    password = shown_password(response)
    teacher.refresh_from_db()
    assert teacher.check_password(password)
    # Once the teacher also belongs to a school the test administrator does not serve:
    Membership.objects.create(user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR)
    refused = test_admin_client.post(url(grundskola, "larare/losenord/"), {"confirm": "yes"})
    assert refused.status_code == 403
    assert "Lösenord</dt>" not in refused.content.decode()
    teacher.refresh_from_db()
    assert teacher.check_password(password)
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_REGENERATED).count() == 1


def email_of_length(length: int) -> str:
    """A valid address of exactly `length` characters: the local part may be
    at most 64 and each domain label at most 63, so the length is in the domain."""
    tail = ".se"
    labels = []
    room = length - len("nora@") - len(tail)
    while room > 0:
        label = min(room, 60)
        labels.append("d" * label)
        room -= label + 1  # the dot before the next label
    return "nora@" + ".".join(labels) + tail


@pytest.mark.parametrize(
    ("field", "limit"), [("first_name", 150), ("last_name", 150), ("email", 254)]
)
def test_register_form_refuses_a_value_longer_than_the_database_holds(
    principal_client, grundskola, field, limit
):
    def post(value):
        data = {"first_name": "Nora", "last_name": "Nysson", "email": "nora@skola.example"}
        data[field] = value
        return principal_client.post(url(grundskola, "ny/"), data)

    def of_length(length):
        if field == "email":
            return "a" * (length - len("@skola.example")) + "@skola.example"
        return "Å" * length

    too_long = post(of_length(limit + 1))
    assert too_long.status_code == 200
    assert f"som mest {limit} tecken" in too_long.content.decode()
    assert not User.objects.filter(role=Role.TEACHER).exists()
    # An address local part is at most 64 characters, so the longest valid
    # e-mail needs a long domain.
    at_limit = email_of_length(limit) if field == "email" else of_length(limit)
    assert len(at_limit) == limit
    response = post(at_limit)
    assert response.status_code == 200
    assert User.objects.filter(role=Role.TEACHER).count() == 1


def test_subject_labels_are_written_as_in_the_catalogue_with_the_code(principal_client, grundskola):
    html = principal_client.get(url(grundskola, "ny/")).content.decode()
    assert "Matematik (grundskola, GRGRMAT01)" in html
    assert "(Grundskola," not in html


def test_registering_oneself_twice_says_you_are_already_registered(
    principal_client, principal, grundskola
):
    """Found by the walk: the second time said "<address> is already
    registered", as if about someone else."""
    principal_client.post(url(grundskola, "mig-sjalv/"))
    again = principal_client.post("/en" + url(grundskola, "mig-sjalv/"), follow=True)
    mine = User.objects.get(role=Role.TEACHER, email=principal.email)
    html = again.content.decode()
    assert "You are already registered as a teacher at this school" in html
    assert mine.username in html
    assert mine.memberships.count() == 1
