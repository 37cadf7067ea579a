"""Logs people can read: names with usernames, Swedish actions, roles and
details, local time; teacher logins and downloads in the school's and the
huvudman's log; CSV export of what the filters show, formula-safe, audited."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.display import describe_details
from audit.log import audit_record
from audit.models import AuditEvent
from permissions.models import Membership
from permissions.services.memberships import membership_register, membership_remove
from permissions.services.removal import removed_accounts_purge
from tests.conftest import END_OF_YEAR, SCHOOL_DAY, make_user, verify_session

pytestmark = pytest.mark.django_db


def log(client, school, query: str = "") -> str:
    return client.get(f"/e-tjanster/skolor/{school.code}/logg/{query}").content.decode()


def test_the_school_log_reads_as_swedish_sentences_with_names(
    principal_client, principal, grundskola
):
    membership_register(
        school_unit=grundskola,
        context=AuditContext(actor=principal, address="192.0.2.4"),
        first_name="Nora",
        last_name="Nilsson",
        email="nora@skola.example",
        subjects=[],
        today=SCHOOL_DAY,
    )
    username = Membership.objects.get(user__email="nora@skola.example").user.username
    page = log(principal_client, grundskola)
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "Lärare registrerad" in rows
    assert "membership_registered" not in rows
    assert "Rektor Testsson (rektor)" in page
    assert f"Nora Nilsson ({username})" in page
    assert "nytt konto: ja" in page
    assert "giltig till: 2027-07-31" in page
    assert ">Rektor<" in page  # the role, in Swedish
    assert '<option value="membership_registered">Lärare registrerad</option>' in page


def test_subjects_in_the_school_log_read_as_names_with_their_codes(
    principal_client, principal, grundskola, teacher
):
    from permissions.models import Subject
    from permissions.services.subjects import membership_grant

    membership = teacher.memberships.get()
    membership_grant(
        membership=membership,
        subjects=list(Subject.objects.filter(code__in=["GRGRMAT01", "GRGRENG01"])),
        context=AuditContext(actor=principal, school_unit=grundskola),
    )
    english = Subject.objects.get(code="GRGRENG01").name
    swedish = Subject.objects.get(code="GRGRSVE01").name
    rows = log(principal_client, grundskola).split("<tbody>")[1].split("</tbody>")[0]
    assert f"tillagd: {english} (GRGRENG01)" in rows
    assert f"borttagen: {swedish} (GRGRSVE01)" in rows
    # A code no longer in the catalogue still reads as its code.
    assert describe_details({"added": ["XYZ01"]}, {}) == "tillagd: XYZ01"


def test_a_deleted_teacher_is_shown_by_username_only(
    principal_client, principal, grundskola, teacher
):
    membership_remove(membership=teacher.memberships.get(), context=AuditContext(actor=principal))
    # Closed for 30 days (restorable), then deleted for good.
    removed_accounts_purge(now=timezone.now() + datetime.timedelta(days=31))
    page = log(principal_client, grundskola)
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "Larare Testsson" not in rows
    assert '<td data-label="Gäller">larare</td>' in rows


def test_times_are_local(principal_client, principal, grundskola):
    moment = datetime.datetime(2026, 7, 1, 10, 0, tzinfo=datetime.UTC)  # 12:00 in Stockholm
    event = audit_record(
        action=AuditAction.LOGOUT, context=AuditContext(actor=principal), school_unit=grundskola
    )
    AuditEvent.objects.filter(pk=event.pk)  # append-only: create another with a set time
    AuditEvent(action="logout", school_unit=grundskola, created_at=moment).save()
    assert "2026-07-01 12:00" in log(principal_client, grundskola)
    assert str(AuditEvent.objects.get(created_at=moment)).startswith("2026-07-01 12:00 Utloggad")


def test_teacher_logins_are_in_each_of_the_teachers_schools_logs(
    client, teacher, grundskola, gymnasium, other_school
):
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    client.post(
        "/bedomningsportalen/logga-in/",
        {"username": "larare", "password": "larare-password-1234"},
    )
    events = AuditEvent.objects.filter(action=AuditAction.LOGIN_SUCCEEDED, target="larare")
    assert {event.school_unit for event in events} == {grundskola, other_school}
    assert {event.huvudman_id for event in events} == {
        grundskola.huvudman_id,
        other_school.huvudman_id,
    }
    client.post("/logga-ut/")
    client.post(
        "/bedomningsportalen/logga-in/", {"username": "larare", "password": "wrong-password"}
    )
    failed = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, target="larare")
    assert {event.school_unit for event in failed} == {grundskola, other_school}


def test_a_protected_download_is_in_the_log_of_the_school_that_opened_it(
    client, teacher, grundskola, huvudman_staff
):
    from tests.fixtures.material import make_material

    item = make_material("prov-i-loggen")
    client.force_login(teacher)
    assert client.get(f"/bedomningsportalen/material/{item.slug}/fil/").status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.MATERIAL_DOWNLOADED)
    assert event.school_unit == grundskola and event.huvudman_id == grundskola.huvudman_id


def test_the_filtered_log_exports_as_safe_csv_and_the_export_is_audited(
    principal_client, principal, grundskola
):
    evil = make_user("evil", Role.TEACHER)
    evil.first_name = "=HYPERLINK(1)"
    evil.save()
    Membership.objects.create(user=evil, school_unit=grundskola, valid_until=END_OF_YEAR)
    audit_record(
        action=AuditAction.PASSWORD_REGENERATED,
        context=AuditContext(actor=principal),
        school_unit=grundskola,
        target="evil",
    )
    audit_record(
        action=AuditAction.LOGOUT, context=AuditContext(actor=principal), school_unit=grundskola
    )
    page = principal_client.get(
        f"/e-tjanster/skolor/{grundskola.code}/logg/", {"action": "password_regenerated"}
    ).content.decode()
    # The page's download button posts the filter it shows.
    action = f"/e-tjanster/skolor/{grundskola.code}/logg/csv/?action=password_regenerated"
    assert f'<form method="post" action="{action}">' in page
    response = principal_client.post(action)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeffTid;Händelse;")
    lines = text.strip().splitlines()
    assert len(lines) == 2
    assert (
        "Lösenord återskapat" in lines[1] or "Nytt lösenord" in lines[1] or "Lösenord" in lines[1]
    )
    assert ";'=HYPERLINK(1) Testsson (evil);" in lines[1]
    export = AuditEvent.objects.get(action=AuditAction.LOG_EXPORTED)
    assert export.school_unit == grundskola
    assert export.details == {"filters": {"action": "password_regenerated"}}


def test_the_log_csv_is_for_the_schools_own_administrators(principal_client, other_school):
    response = principal_client.post(f"/e-tjanster/skolor/{other_school.code}/logg/csv/")
    assert response.status_code == 404


def test_the_log_pages_download_button_works_with_csrf_checks_on(principal, grundskola):
    # As a browser does it: the token from the page's own form.
    strict = verify_session(Client(enforce_csrf_checks=True), principal)
    page = strict.get(f"/e-tjanster/skolor/{grundskola.code}/logg/").content.decode()
    form = page.split(f'action="/e-tjanster/skolor/{grundskola.code}/logg/csv/"')[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = strict.post(
        f"/e-tjanster/skolor/{grundskola.code}/logg/csv/", {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_the_log_csv_is_a_post_with_its_csrf_token(client, principal, grundskola):
    """The export writes an audit event: a link, a prefetcher or another
    site's <img> must not be able to make one."""
    url = f"/e-tjanster/skolor/{grundskola.code}/logg/csv/"
    verify_session(client, principal)
    assert client.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.post(url).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.LOG_EXPORTED).exists()


def test_details_read_as_a_sentence():
    assert describe_details({"factor": "matrix_card", "door": "etjanster"}) == (
        "faktor: inloggningsmatris; inloggning: E-tjänster"
    )
    assert describe_details({"refused": "not_teacher"}).startswith("nekad eftersom: Bara en lärare")


# --- The admin sites ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "base"),
    [
        ("national_admin", "/admin/audit/auditevent/"),
        ("huvudman_staff", "/huvudman/audit/auditevent/"),
    ],
)
def test_the_admin_audit_lists_read_in_swedish_and_export_csv(
    client, request, who, base, principal, grundskola
):
    user = request.getfixturevalue(who)
    verify_session(client, user)
    audit_record(
        action=AuditAction.CARD_ISSUED,
        context=AuditContext(actor=principal),
        school_unit=grundskola,
        target="rektor",
        details={"serial": "ABCD-EFGH"},
    )
    page = client.get(base).content.decode()
    assert "Inloggningsmatris utfärdad" in page
    assert "card_issued" not in page.split("<tbody>")[1].split("</tbody>")[0]
    assert "Rektor Testsson (rektor)" in page
    assert "kortets serienummer: ABCD-EFGH" in page
    assert "?action=card_issued" in page  # the filter, by Swedish label
    assert f'<form method="post" action="{base}export/">' in page  # "Exportera som CSV"
    filtered = client.get(base, {"action": "card_issued"}).content.decode()
    assert "Inloggningsmatris utfärdad" in filtered.split("<tbody>")[1].split("</tbody>")[0]
    filtered_export = f'<form method="post" action="{base}export/?action=card_issued">'
    assert filtered_export in filtered
    # The button carries its token (the admin's own CSRF check is on).
    assert "csrfmiddlewaretoken" in filtered.split(filtered_export)[1].split("</form>")[0]
    assert client.get(base + "export/", {"action": "card_issued"}).status_code == 405
    assert not AuditEvent.objects.filter(action=AuditAction.LOG_EXPORTED).exists()
    export = client.post(base + "export/?action=card_issued")
    text = b"".join(export.streaming_content).decode()
    assert "Inloggningsmatris utfärdad" in text and "ABCD-EFGH" in text
    assert AuditEvent.objects.filter(action=AuditAction.LOG_EXPORTED, actor_id=user.pk).exists()
    assert client.get(base, {"created_at__year": "9" * 30}).status_code == 400


def test_the_huvudman_export_holds_only_its_own_events(client, huvudman_staff, other_school):
    verify_session(client, huvudman_staff)
    audit_record(
        action=AuditAction.CARD_ISSUED,
        context=AuditContext.system(),
        school_unit=other_school,
        target="someone-else",
    )
    text = b"".join(client.post("/huvudman/audit/auditevent/export/").streaming_content)
    assert b"someone-else" not in text
    _ = timezone


def test_the_account_lifecycles_details_read_as_words():
    from django.utils import translation

    from audit.display import describe_details

    with translation.override("sv"):
        text = describe_details(
            {"reason": "card_replaced", "sessions": 2, "purpose": "confirm_membership"}
        )
    assert text == (
        "orsak: ny inloggningsmatris; avslutade inloggningar: 2; "
        "kod för: att bekräfta en skolas registrering"
    )


@pytest.mark.parametrize(
    ("details", "text"),
    [
        ({"replaced": 0}, "ersatt: ingen (den första appen)"),
        ({"replaced": 1}, "ersatt: den tidigare appen"),
        ({"replaced": ["ABCD-EFGH"]}, "ersatt: ABCD-EFGH"),
        ({"mode": "add"}, "ämnen: filens ämnen läggs till lärarens nuvarande"),
        ({"mode": "replace"}, "ämnen: filens ämnen ersätter lärarens nuvarande"),
    ],
)
def test_details_read_as_whole_sentences(details, text):
    """Found by black-box walk 3: "ämnen: läggs till lärarens" stopped
    mid-sentence, and an authenticator app's enrolment read "ersatt kort: 0"."""
    assert describe_details(details) == text
