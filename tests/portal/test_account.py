"""The teacher's own account page: memberships and password change."""

import datetime
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from audit.actions import AuditAction
from audit.models import AuditEvent
from permissions.models import Membership
from tests.conftest import END_OF_YEAR, make_user, verify_session
from web.forms import OwnPasswordChangeForm

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school_day")]

# The 400 page of core.middleware.BadInputMiddleware (a NUL byte never reaches a form).
BAD_REQUEST = "Begäran kunde inte hanteras"

URL = "/bedomningsportalen/konto/"
NEW_PASSWORD = "Ett-nytt-langt-losen-42"


def test_anonymous_is_sent_to_the_portal_login_returning_here(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/bedomningsportalen/logga-in/?next=/bedomningsportalen/konto/"


def test_a_principal_is_sent_to_the_portal_login_too(client, principal):
    verify_session(client, principal)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/bedomningsportalen/logga-in/?next=/bedomningsportalen/konto/"


def test_teacher_sees_school_subjects_validity_and_state(client, teacher):
    client.force_login(teacher)
    html = client.get(URL).content.decode()
    assert "Testskolan F–9" in html
    assert "Matematik" in html and "Svenska" in html
    assert "31 juli 2027" in html
    assert "Aktivt" in html
    assert "Inloggad som Larare Testsson" in html


def test_an_expired_membership_explains_why_and_names_the_principal(client, teacher, principal):
    Membership.objects.filter(user=teacher).update(valid_until=datetime.date(2026, 7, 31))
    client.force_login(teacher)
    html = client.get(URL).content.decode()
    assert "Har gått ut" in html
    assert "gick ut den 31 juli 2026" in html
    assert "Rektor Testsson" in html


def test_a_membership_without_subjects_is_flagged(client, gymnasium, principal):
    teacher = make_user("amneslos", "teacher")
    Membership.objects.create(user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR)
    client.force_login(teacher)
    html = client.get(URL).content.decode()
    assert "Inga ämnen" in html
    assert "Du har inga ämnen vid Testgymnasiet" in html


def test_removed_memberships_are_not_listed(client, teacher, gymnasium):
    from django.utils import timezone

    Membership.objects.create(
        user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR, removed_at=timezone.now()
    )
    client.force_login(teacher)
    assert "Testgymnasiet" not in client.get(URL).content.decode()


def test_password_change_needs_the_current_password(client, teacher):
    client.force_login(teacher)
    response = client.post(
        URL,
        {"old_password": "fel", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    teacher.refresh_from_db()
    assert teacher.check_password("larare-password-1234")
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED).exists()


def test_password_change_enforces_twelve_characters(client, teacher):
    client.force_login(teacher)
    response = client.post(
        URL,
        {
            "old_password": "larare-password-1234",
            "new_password1": "kort-9x",
            "new_password2": "kort-9x",
        },
    )
    assert "minst 12 tecken" in response.content.decode()
    teacher.refresh_from_db()
    assert teacher.check_password("larare-password-1234")


def test_password_change_keeps_this_session_and_is_audited(client, teacher):
    client.force_login(teacher)
    response = client.post(
        URL,
        {
            "old_password": "larare-password-1234",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert event.actor_id == teacher.pk
    # Still logged in after the change.
    follow = client.get(URL)
    assert follow.status_code == 200
    assert client.session[SESSION_KEY] == str(teacher.pk)
    assert "Ditt lösenord är bytt" in follow.content.decode()


# A membership that ended a school year ago: the page warns and names the principals.
LAST_YEAR = END_OF_YEAR - datetime.timedelta(days=365)


def test_account_page_costs_the_same_queries_for_one_and_three_memberships(
    client, teacher, gymnasium, other_school
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(teacher)
    Membership.objects.filter(user=teacher).update(
        valid_until=END_OF_YEAR - datetime.timedelta(days=400)
    )
    with CaptureQueriesContext(connection) as one:
        html = client.get(URL).content.decode()
    assert "message-warning" in html
    for school in (gymnasium, other_school):
        Membership.objects.create(user=teacher, school_unit=school, valid_until=END_OF_YEAR)
    with CaptureQueriesContext(connection) as three:
        client.get(URL)
    assert len(one.captured_queries) == len(three.captured_queries)


def test_account_page_reads_principals_only_beside_a_warning(client, teacher, principal):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(teacher)
    with CaptureQueriesContext(connection) as fine:
        html = client.get(URL).content.decode()
    assert "Aktiv" in html
    assert not [q for q in fine.captured_queries if "schools_principalassignment" in q["sql"]]
    Membership.objects.filter(user=teacher).update(
        valid_until=END_OF_YEAR - datetime.timedelta(days=400)
    )
    with CaptureQueriesContext(connection) as warned:
        html = client.get(URL).content.decode()
    assert len(warned.captured_queries) == len(fine.captured_queries) + 1
    assert principal.get_full_name() in html


def test_wrong_current_passwords_are_throttled_and_audited(client, teacher):
    """Issue item 7: a stolen session must not be a free guessing machine."""
    import time_machine

    from accounts.throttle import FREE_FAILURES

    client.force_login(teacher)
    wrong = {"old_password": "fel", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(FREE_FAILURES):
            html = client.post(URL, wrong).content.decode()
            assert "Det nuvarande lösenordet är fel." in html
        right = {**wrong, "old_password": "larare-password-1234"}
        html = client.post(URL, right).content.decode()
    assert "För många försök, vänta till kl." in html
    assert "Det nuvarande lösenordet är fel." not in html
    teacher.refresh_from_db()
    assert teacher.check_password("larare-password-1234")
    failed = AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGE_FAILED)
    assert failed.count() == FREE_FAILURES
    assert {event.actor_id for event in failed} == {teacher.pk}


# --- "Mitt konto" in E-tjänster ------------------------------------------------------

MY_ACCOUNT = "/e-tjanster/mitt-konto/"


def test_my_account_is_for_principals_and_test_admins_past_both_factors(
    client, principal, teacher, test_admin
):
    assert client.get(MY_ACCOUNT)["Location"].startswith("/e-tjanster/logga-in/")
    teacher_client = Client()
    teacher_client.force_login(teacher)
    assert teacher_client.get(MY_ACCOUNT).status_code == 302
    half = Client()
    half.force_login(principal)  # past the password only
    assert half.get(MY_ACCOUNT).status_code == 302
    for user in (principal, test_admin):
        page = verify_session(Client(), user).get(MY_ACCOUNT)
        assert page.status_code == 200
        assert "Byt lösenord" in page.content.decode()


def test_my_account_names_the_current_card_and_changes_the_password(principal):
    from accounts.services.cards import current_card

    session = verify_session(Client(), principal)
    card = current_card(user=principal)
    page = session.get(MY_ACCOUNT).content.decode()
    assert f"Kort {card.serial}" in page
    response = session.post(
        MY_ACCOUNT,
        {
            "old_password": "rektor-password-1234",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    principal.refresh_from_db()
    assert principal.check_password(NEW_PASSWORD)
    assert session.get("/e-tjanster/").status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert event.huvudman == principal.led_school_units.first().huvudman


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"old_password": "fel"}, "Det nuvarande lösenordet är fel."),
        ({"new_password2": "nagot-helt-annat-77"}, "De två nya lösenorden är olika."),
        ({"new_password1": "a\x00" * 7, "new_password2": "a\x00" * 7}, BAD_REQUEST),
        ({"old_password": "x" * 201}, "som mest 200 tecken"),
    ],
)
def test_my_account_explains_bad_input_and_changes_nothing(principal, data, message):
    session = verify_session(Client(), principal)
    form = {
        "old_password": "rektor-password-1234",
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        **data,
    }
    response = session.post(MY_ACCOUNT, form)
    assert response.status_code == (400 if message == BAD_REQUEST else 200)
    assert message in response.content.decode()
    principal.refresh_from_db()
    assert principal.check_password("rektor-password-1234")


def test_the_empty_password_form_is_the_same_for_every_teacher_and_follows_the_language(
    client, teacher
):
    """Kept once per language (web.forms.unbound_password_change_html): it
    must hold nothing of the person it is shown to."""

    def form_html(page: str) -> str:
        start = re.search(
            r'<form method="post" action="(/en)?/bedomningsportalen/konto/"', page
        ).start()
        # Each response's CSRF token is its own (outside the kept form).
        return re.sub(
            r'name="csrfmiddlewaretoken" value="\w+"',
            "",
            page[start : page.index("</form>", start)],
        )

    other = make_user("annan.larare", role=teacher.role)
    pages = []
    for user in (teacher, other):
        client.force_login(user)
        pages.append(client.get(URL).content.decode())
    assert form_html(pages[0]) == form_html(pages[1])
    assert str(OwnPasswordChangeForm(user=other).render()) in pages[1]
    assert "annan.larare" not in form_html(pages[1])
    english = client.get("/en" + URL).content.decode()
    assert "Current password" in form_html(english)
    assert "Current password" not in form_html(pages[0])
