import base64
import datetime
import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from accounts.models import Role, User
from audit.actions import NEVER_AT_A_SCHOOL, AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from permissions.models import Membership
from permissions.models import TestAdministrator as Appointment
from tests.conftest import verify_session
from tests.fixtures.cards import page_cells
from tests.fixtures.pdfs import printed_cells
from tests.fixtures.staff import make_teachers

pytestmark = pytest.mark.django_db

NOVEMBER = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC)
AUGUST_FIRST = datetime.datetime(2027, 7, 31, 22, 0, tzinfo=datetime.UTC)  # 00:00 in Stockholm


def upload(content: bytes, name="larare.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


GOOD = "Förnamn;Efternamn;E-post;Ämnen\nAda;Ek;ada@skola.example;GRGRMAT01 GRGRSVE01\n"
BAD = GOOD + "Bo;Al;bo-utan-snabel-a;GRGRMAT01\nCe;Ok;ce@skola.example;GRGRMAT01\n"


# --- Import -----------------------------------------------------------------------------


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    return match.group(1) if match else ""


def download(client, base: str, html: str, what: str):
    """Post the result page's download form for `what` (slips or report)."""
    pickup = re.search(r'name="pickup" value="(\d+)"', html).group(1)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    return client.post(base + "hamta/", {"pickup": pickup, "key": key, "what": what})


def test_import_preview_names_the_bad_row_and_saves_nothing(principal_client, grundskola):
    base = f"/e-tjanster/skolor/{grundskola.code}/larare/importera/"
    response = principal_client.post(base, {"file": upload(BAD.encode("cp1252"))})
    html = response.content.decode()
    assert "Rad 3:" in html
    assert "bo-utan-snabel-a" in html
    assert "Importera</button>" not in html
    assert token_of(html) == ""
    assert not User.objects.filter(role=Role.TEACHER).exists()
    response = principal_client.post(base + "genomfor/", {"token": "guessed"}, follow=True)
    assert "granskningen gäller inte längre" in response.content.decode()
    assert not User.objects.filter(role=Role.TEACHER).exists()


def test_a_failed_upload_discards_the_earlier_preview(principal_client, grundskola):
    base = f"/e-tjanster/skolor/{grundskola.code}/larare/importera/"
    good = principal_client.post(base, {"file": upload(GOOD.encode())}).content.decode()
    failed = principal_client.post(base, {"file": upload(b"")})
    assert failed.status_code == 400
    principal_client.post(base + "genomfor/", {"token": token_of(good)})
    assert not User.objects.filter(role=Role.TEACHER).exists()


def test_import_preview_then_apply_gives_slips_and_a_report(principal_client, grundskola):
    base = f"/e-tjanster/skolor/{grundskola.code}/larare/importera/"
    preview = principal_client.post(base, {"file": upload(GOOD.encode("utf-8-sig"))})
    assert "Nytt lärarkonto" in preview.content.decode()
    assert "no-store" in preview["Cache-Control"]
    assert not User.objects.filter(role=Role.TEACHER).exists()
    done = principal_client.post(base + "genomfor/", {"token": token_of(preview.content.decode())})
    html = done.content.decode()
    assert "no-store" in done["Cache-Control"]
    assert "data:" not in html  # small: the files are downloaded separately
    user = User.objects.get(email="ada@skola.example")
    assert user.username not in html
    slips = download(principal_client, base, html, "slips")
    assert slips["Content-Type"] == "application/pdf"
    assert "no-store" in slips["Cache-Control"]
    text = PdfReader(io.BytesIO(slips.content)).pages[0].extract_text()
    assert user.username in text
    report_text = download(principal_client, base, html, "report").content.decode("utf-8-sig")
    assert f"ada@skola.example;{user.username};Nytt lärarkonto;GRGRMAT01 GRGRSVE01" in report_text
    # Applying again does nothing: the checked file was used up.
    principal_client.post(base + "genomfor/", {"token": token_of(preview.content.decode())})
    assert User.objects.filter(email="ada@skola.example").count() == 1


def test_an_import_whose_slips_cannot_be_stored_creates_no_account(
    principal_client, grundskola, monkeypatch
):
    """The new passwords exist only in the sealed pickup: if it cannot be
    stored, no account may exist whose password nobody will ever see."""
    from django.db import DatabaseError

    from permissions.models import ImportPickup

    base = f"/e-tjanster/skolor/{grundskola.code}/larare/importera/"
    token = token_of(principal_client.post(base, {"file": upload(GOOD.encode())}).content.decode())

    def broken(**fields):
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(ImportPickup.objects, "create", broken)
    with pytest.raises(DatabaseError):
        principal_client.post(base + "genomfor/", {"token": token})
    assert not User.objects.filter(role=Role.TEACHER).exists()
    assert not Membership.objects.exists()
    # The checked file was not used up: once storing works, it can be applied.
    monkeypatch.undo()
    done = principal_client.post(base + "genomfor/", {"token": token})
    assert 'name="pickup"' in done.content.decode()
    assert Membership.objects.get().user.email == "ada@skola.example"


def test_the_slips_need_the_key_of_the_result_page(principal_client, grundskola):
    from permissions.models import ImportPickup

    base = f"/e-tjanster/skolor/{grundskola.code}/larare/importera/"
    preview = principal_client.post(base, {"file": upload(GOOD.encode())}).content.decode()
    html = principal_client.post(base + "genomfor/", {"token": token_of(preview)}).content.decode()
    pickup = ImportPickup.objects.get()
    password_free = bytes(pickup.sealed)
    assert b"ada@skola.example" not in password_free
    forged = principal_client.post(
        base + "hamta/", {"pickup": pickup.pk, "key": "A" * 43 + "=", "what": "slips"}
    )
    assert forged.status_code == 302
    assert download(principal_client, base, html, "slips").status_code == 200


@pytest.mark.parametrize(
    "form",
    [{}, {"pickup": "x", "key": "k", "what": "slips"}, {"pickup": 1, "key": "k" * 65, "what": "x"}],
)
def test_a_broken_or_old_download_form_says_why_in_swedish(principal_client, grundskola, form):
    """Found by black-box walk 3: a broken form answered an empty 400 (a white page)."""
    base = f"/e-tjanster/skolor/{grundskola.code}/larare/importera/"
    response = principal_client.post(base + "hamta/", form, follow=True)
    assert response.redirect_chain == [(base, 302)]
    assert "Lapparna och rapporten från den importen kan inte längre laddas ner" in (
        response.content.decode()
    )


def test_the_import_report_writes_formula_like_names_as_text(principal_client, grundskola):
    base = f"/e-tjanster/skolor/{grundskola.code}/larare/importera/"
    evil = "Förnamn;Efternamn;E-post;Ämnen\n=2+5*cmd|A0;-Ek;ada@skola.example;GRGRMAT01\n"
    preview = principal_client.post(base, {"file": upload(evil.encode())}).content.decode()
    html = principal_client.post(base + "genomfor/", {"token": token_of(preview)}).content.decode()
    report_text = download(principal_client, base, html, "report").content.decode("utf-8-sig")
    assert ";'=2+5*cmd|A0;'-Ek;ada@skola.example;" in report_text


@pytest.mark.parametrize(
    ("content", "message", "status"),
    [
        (b"", "tom", 400),
        (b"x" * (10 * 1024 * 1024), "för stor", 400),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "inte en CSV-fil", 400),
        (b"Ada;Ek;ada@skola.example;GRGRMAT01\n", "rubrikraden", 400),
        (
            "Förnamn;Efternamn;E-post;Ämnen\nAda;Ek;ada@skola.example;GRGRMAT01;x;y\n".encode(),
            "För många kolumner",
            200,
        ),
    ],
)
def test_a_bad_file_gets_a_swedish_message_never_an_error_page(
    principal_client, grundskola, content, message, status
):
    base = f"/e-tjanster/skolor/{grundskola.code}/larare/importera/"
    response = principal_client.post(base, {"file": upload(content)})
    assert response.status_code == status
    assert message in response.content.decode()
    assert not User.objects.filter(role=Role.TEACHER).exists()


def test_a_checked_file_cannot_be_applied_at_another_school(
    principal_client, grundskola, gymnasium
):
    base = "/e-tjanster/skolor/{}/larare/importera/"
    preview = principal_client.post(base.format(grundskola.code), {"file": upload(GOOD.encode())})
    principal_client.post(
        base.format(gymnasium.code) + "genomfor/", {"token": token_of(preview.content.decode())}
    )
    assert not Membership.objects.filter(school_unit=gymnasium).exists()


# --- The new school year ----------------------------------------------------------------


def test_new_school_year_reactivates_the_kept_and_removes_the_rest(principal, grundskola):
    old = make_teachers(grundskola, 3, valid_until=datetime.date(2027, 7, 31))
    base = f"/e-tjanster/skolor/{grundskola.code}/nytt-lasar/"
    with time_machine.travel(AUGUST_FIRST, tick=False):
        principal_client = verify_session(Client(), principal)
        html = principal_client.get(base).content.decode()
        assert html.count('name="keep"') == 3
        response = principal_client.post(
            base, {"keep": [old[0].pk, old[1].pk], "remove_unkept": "yes", "confirm": "yes"}
        )
    assert "2 lärare återaktiverades" in response.content.decode()
    assert "data:application/pdf" in response.content.decode()
    assert Membership.objects.get(pk=old[0].pk).valid_until == datetime.date(2028, 7, 31)
    assert User.objects.get(pk=old[2].user_id).removed_at is not None  # closed, 30 days


def test_new_school_year_post_takes_a_constant_number_of_queries(principal, grundskola):
    base = f"/e-tjanster/skolor/{grundskola.code}/nytt-lasar/"
    counts = []
    for prefix, count in (("a", 5), ("b", 40)):
        batch = make_teachers(
            grundskola, count, valid_until=datetime.date(2027, 7, 31), prefix=prefix
        )
        with time_machine.travel(AUGUST_FIRST, tick=False):
            principal_client = verify_session(Client(), principal)
            with CaptureQueriesContext(connection) as queries:
                response = principal_client.post(base, {"keep": [m.pk for m in batch]})
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_before_1_august_there_is_nothing_to_reactivate(principal_client, grundskola, teacher):
    with time_machine.travel(NOVEMBER, tick=False):
        html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/nytt-lasar/")
    assert "inget att återaktivera" in html.content.decode()


def test_test_admin_may_keep_but_not_remove_on_the_new_school_year_page(
    test_admin, grundskola, principal
):
    old = make_teachers(grundskola, 2, valid_until=datetime.date(2026, 7, 31))
    client = verify_session(Client(), test_admin)
    base = f"/e-tjanster/skolor/{grundskola.code}/nytt-lasar/"
    with time_machine.travel(NOVEMBER, tick=False):
        assert "remove_unkept" not in client.get(base).content.decode()
        client.post(base, {"keep": [old[0].pk], "remove_unkept": "yes", "confirm": "yes"})
    assert Membership.objects.filter(pk=old[1].pk, removed_at__isnull=True).exists()
    assert Membership.objects.get(pk=old[0].pk).valid_until == datetime.date(2027, 7, 31)


@pytest.mark.parametrize("keep", ["²", "99999999999999999999999", "-1", "abc", ""])
def test_a_malformed_keep_value_is_refused_without_an_error_page(principal, grundskola, keep):
    old = make_teachers(grundskola, 2, valid_until=datetime.date(2027, 7, 31))
    base = f"/e-tjanster/skolor/{grundskola.code}/nytt-lasar/"
    with time_machine.travel(AUGUST_FIRST, tick=False):
        client = verify_session(Client(), principal)
        response = client.post(
            base, {"keep": [old[0].pk, keep], "remove_unkept": "yes", "confirm": "yes"}
        )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    # Nothing was done: neither the valid id kept nor the others removed.
    assert set(
        Membership.objects.filter(pk__in=[m.pk for m in old]).values_list(
            "valid_until", "removed_at"
        )
    ) == {(datetime.date(2027, 7, 31), None)}


def test_a_membership_not_offered_cannot_be_kept_by_its_id(principal, grundskola, other_school):
    (foreign,) = make_teachers(other_school, 1, valid_until=datetime.date(2027, 7, 31))
    base = f"/e-tjanster/skolor/{grundskola.code}/nytt-lasar/"
    with time_machine.travel(AUGUST_FIRST, tick=False):
        client = verify_session(Client(), principal)
        response = client.post(base, {"keep": [foreign.pk]})
    assert response.status_code == 400
    foreign.refresh_from_db()
    assert foreign.valid_until == datetime.date(2027, 7, 31)


def test_a_page_left_open_while_the_teachers_were_renewed_says_so(principal, grundskola):
    """The same list sent from a second tab after the first renewed it: the
    ids are no longer offered. A sentence, not "3 finns inte bland …"."""
    old = make_teachers(grundskola, 2, valid_until=datetime.date(2026, 7, 31))
    base = f"/e-tjanster/skolor/{grundskola.code}/nytt-lasar/"
    with time_machine.travel(AUGUST_FIRST, tick=False):
        client = verify_session(Client(), principal)
        assert client.post(base, {"keep": [m.pk for m in old]}).status_code == 200
        response = client.post(base, {"keep": [m.pk for m in old]})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Listan har ändrats sedan sidan visades" in html
    assert "återaktiverats eller tagits bort" in html
    assert "finns inte bland" not in html


# --- Test administrators ----------------------------------------------------------------


def test_principal_issues_a_test_admin_with_password_and_card_pdf(principal_client, grundskola):
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/"
    response = principal_client.post(
        base, {"first_name": "Pia", "last_name": "Prov", "email": "pia@skola.example"}
    )
    html = response.content.decode()
    user = User.objects.get(email="pia@skola.example", role=Role.TEST_ADMIN)
    password = re.search(r"Lösenord</dt><dd><code>([^<]+)</code>", html).group(1)
    assert user.check_password(password)
    slip = re.search(r'href="data:application/pdf;base64,([^"]+)"', html).group(1)
    text = PdfReader(io.BytesIO(base64.b64decode(slip))).pages[0].extract_text()
    assert user.username in text
    assert Appointment.objects.get(user=user).school_unit == grundskola


def test_issuing_the_same_test_admin_twice_explains_and_makes_no_second_account(
    principal_client, grundskola
):
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/"
    form = {"first_name": "Pia", "last_name": "Prov", "email": "pia@skola.example"}
    assert principal_client.post(base, form).status_code == 200
    [user] = User.objects.filter(email="pia@skola.example", role=Role.TEST_ADMIN)
    # The result page reloaded, or the button clicked twice: the same POST again.
    again = principal_client.post(base, form)
    html = again.content.decode()
    assert "Lösenord</dt>" not in html
    said = f"pia@skola.example är redan provadministratör på skolan (användarnamn {user.username})"
    assert said in html
    assert User.objects.filter(email="pia@skola.example", role=Role.TEST_ADMIN).count() == 1


def test_the_test_admins_card_is_on_the_screen_as_a_table_like_on_paper(
    principal_client, grundskola
):
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/"
    html = principal_client.post(
        base, {"first_name": "Pia", "last_name": "Prov", "email": "pia@skola.example"}
    ).content.decode()
    slip = re.search(r'href="data:application/pdf;base64,([^"]+)"', html).group(1)
    text = PdfReader(io.BytesIO(base64.b64decode(slip))).pages[0].extract_text()
    on_screen = page_cells(html)
    assert len(on_screen) == 80
    assert on_screen == printed_cells(text)
    # A real table: a caption naming the card, and headers for columns and rows.
    assert re.search(r'<caption id="card-caption">Inloggningsmatris [0-9A-Z-]+, utfärdad', html)
    assert html.count('<th scope="col">') >= 8


def test_principal_deactivates_and_reactivates_a_test_admin(
    principal_client, grundskola, test_admin
):
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/"
    principal_client.post(base + "inaktivera/", {"confirm": "yes"})
    test_admin.refresh_from_db()
    assert not test_admin.is_active
    principal_client.post(base + "ateraktivera/")
    test_admin.refresh_from_db()
    assert test_admin.is_active


def test_principal_regenerates_a_test_admins_password(principal_client, grundskola, test_admin):
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/"
    html = principal_client.post(base + "losenord/", {"confirm": "yes"}).content.decode()
    password = re.search(r"Lösenord</dt><dd><code>([^<]+)</code>", html).group(1)
    test_admin.refresh_from_db()
    assert test_admin.check_password(password)


def test_an_unknown_test_admin_action_is_not_found(principal_client, grundskola, test_admin):
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/"
    assert principal_client.post(base + "radera/").status_code == 404
    assert User.objects.filter(pk=test_admin.pk).exists()


def test_no_admin_site_can_delete_a_test_admin_or_its_account(national_admin, test_admin, rf):
    from django.contrib.admin.sites import all_sites

    request = rf.post("/")
    request.user = national_admin
    checked = 0
    for site in all_sites:
        for model in (User, Appointment):
            model_admin = site._registry.get(model)
            if model_admin is None:
                continue
            obj = test_admin if model is User else test_admin.test_admin_appointment
            assert not model_admin.has_delete_permission(request, obj), (site.name, model)
            assert "delete_selected" not in model_admin.get_actions(request)
            checked += 1
    assert checked >= 1, "the national admin site should at least list users"


def test_no_management_command_deletes_accounts():
    # SECURITY: the only path that deletes an account is membership_remove
    # (a teacher's last membership); no command offers another.
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    for command in root.glob("*/management/commands/*.py"):
        source = command.read_text(encoding="utf-8")
        assert ".delete(" not in source, command


def test_deleting_a_test_admins_account_is_refused_by_the_database_rule(test_admin):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        test_admin.delete()
    assert Appointment.objects.filter(user=test_admin).exists()


# --- The log ------------------------------------------------------------------------------


def test_log_shows_the_schools_events_newest_first_filtered_by_action(
    principal_client, principal, grundskola, gymnasium
):
    audit_record(
        action=AuditAction.MEMBERSHIP_REGISTERED,
        context=AuditContext(actor=principal),
        school_unit=grundskola,
        target="first",
    )
    audit_record(
        action=AuditAction.MEMBERSHIP_REMOVED,
        context=AuditContext(actor=principal),
        school_unit=grundskola,
        target="second",
    )
    audit_record(
        action=AuditAction.MEMBERSHIP_REMOVED,
        context=AuditContext(actor=principal),
        school_unit=gymnasium,
        target="elsewhere",
    )
    base = f"/e-tjanster/skolor/{grundskola.code}/logg/"
    html = principal_client.get(base).content.decode()
    assert html.index("second") < html.index("first")
    assert "elsewhere" not in html
    html = principal_client.get(base, {"action": "membership_removed"}).content.decode()
    assert "second" in html and "first" not in html


def test_log_takes_a_constant_number_of_queries(principal_client, principal, grundskola):
    base = f"/e-tjanster/skolor/{grundskola.code}/logg/"
    counts = []
    for count in (3, 120):
        for i in range(count):
            audit_record(
                action=AuditAction.LOGIN_SUCCEEDED,
                context=AuditContext(actor=principal),
                school_unit=grundskola,
                target=str(i),
            )
        with CaptureQueriesContext(connection) as queries:
            principal_client.get(base)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_locked_test_admin_card_is_flagged_and_unlocked_by_the_principal(
    principal_client, grundskola, test_admin
):
    from accounts.models import CardState
    from accounts.services.cards import card_issue

    device = card_issue(user=test_admin, context=AuditContext.system()).device
    device.state = CardState.LOCKED
    device.save()
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/"
    html = principal_client.get(base).content.decode()
    assert "Kortet är låst" in html
    home = principal_client.get("/e-tjanster/").content.decode()
    assert f'href="{base}">1</a>' in home
    principal_client.post(base + "provadmin/las-upp/")
    device.refresh_from_db()
    assert device.state == CardState.ACTIVE


def test_unlocking_without_a_card_explains_instead_of_failing(
    principal_client, grundskola, test_admin
):
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/"
    response = principal_client.post(base + "las-upp/", follow=True)
    assert response.status_code == 200
    assert "har ingen inloggningsmatris" in response.content.decode()


def test_teacher_page_reactivates_from_1_august_stockholm_time(principal, grundskola, teacher):
    base = f"/e-tjanster/skolor/{grundskola.code}/larare/{teacher.username}/"
    just_before = datetime.datetime(2027, 7, 31, 21, 59, tzinfo=datetime.UTC)  # 23:59 in Sweden
    with time_machine.travel(just_before, tick=False):
        client = verify_session(Client(), principal)
        assert "ateraktivera" not in client.get(base).content.decode()
        client.post(base + "ateraktivera/")
    teacher.refresh_from_db()
    assert teacher.memberships.get().valid_until == datetime.date(2027, 7, 31)
    with time_machine.travel(AUGUST_FIRST, tick=False):
        client = verify_session(Client(), principal)
        html = client.get(base).content.decode()
        assert "Väntar på återaktivering" in html
        assert "ateraktivera" in html
        client.post(base + "ateraktivera/")
    assert teacher.memberships.get().valid_until == datetime.date(2028, 7, 31)


def test_actions_of_the_nation_never_land_at_a_school(principal, grundskola):
    """What the filter below leaves out can indeed never be at a school: not
    from the acting context's school, and naming one is refused."""
    context = AuditContext(actor=principal, school_unit=grundskola)
    for action in NEVER_AT_A_SCHOOL:
        assert audit_record(action=action, context=context).school_unit_id is None, action
        with pytest.raises(ValueError):
            audit_record(action=action, context=context, school_unit=grundskola)
    # Every other action still takes the context's school.
    assert audit_record(action=AuditAction.LOGOUT, context=context).school_unit == grundskola


def test_the_log_filter_offers_only_what_happens_at_a_school(principal_client, grundskola):
    html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/logg/").content.decode()
    select = html[html.index('<select name="action"') : html.index("</select>")]
    assert 'value="membership_registered"' in select
    assert 'value="login_succeeded"' in select
    for action in NEVER_AT_A_SCHOOL:
        assert f'value="{action}"' not in select, action
