"""“Glömt lösenordet?”: the same answer whatever was typed, a 30-minute code
to the account's own address, throttled, and every other session ends."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from core.models import OutboxMessage
from core.outbox import outbox_send_due
from permissions.models import EmailCode

pytestmark = pytest.mark.django_db

ASK = "/bedomningsportalen/glomt-losenord/"
CHOOSE = "/bedomningsportalen/glomt-losenord/nytt-losenord/"
NEW = "ett-eget-nytt-losenord-42"


def ask(client, typed):
    return client.post(ASK, {"username": typed})


def code_from_mail() -> str:
    [message] = mail.outbox
    return re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", message.body).group(1)


def test_the_portal_login_links_the_page_and_both_steps_open_without_login(client):
    assert ASK in client.get("/bedomningsportalen/logga-in/").content.decode()
    assert client.get(ASK).status_code == 200
    assert client.get(CHOOSE).status_code == 200
    page = client.get("/en" + ASK).content.decode()
    assert "Principals and test administrators" in page


@pytest.mark.parametrize("typed", ["larare", "LARARE@example.se"])
def test_a_teacher_gets_a_code_by_username_or_address_and_chooses_a_password(
    client, teacher, grundskola, typed
):
    other = Client()
    other.force_login(teacher)
    response = ask(client, typed)
    assert response.status_code == 302 and response["Location"] == CHOOSE
    outbox_send_due()
    assert mail.outbox[0].to == [teacher.email]
    assert "anvandarnamn=larare" in mail.outbox[0].body
    code = code_from_mail()
    row = EmailCode.objects.get(user=teacher, purpose="reset_password")
    assert row.expires_at - row.created_at == datetime.timedelta(minutes=30)
    response = client.post(
        CHOOSE,
        {"username": "larare", "code": code, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert teacher.check_password(NEW)
    # Every other session ended; the school's log shows the code and the change.
    assert other.get("/bedomningsportalen/konto/").status_code == 302
    actions = set(
        AuditEvent.objects.filter(school_unit=grundskola, target="larare").values_list(
            "action", flat=True
        )
    )
    assert {"email_code_sent", "password_changed"} <= actions
    # Single use.
    again = client.post(
        CHOOSE,
        {"username": "larare", "code": code, "new_password1": NEW, "new_password2": NEW},
    )
    assert again.status_code == 400


def test_the_answer_and_the_work_are_the_same_whatever_was_typed(
    client, teacher, principal, test_admin
):
    answers, queries = [], []
    for typed in ["larare", "nobody-at-all", principal.username, "nobody@example.se"]:
        with CaptureQueriesContext(connection) as captured:
            response = ask(Client(REMOTE_ADDR=f"198.51.100.{len(answers) + 1}"), typed)
        answers.append((response.status_code, response["Location"]))
        queries.append(len(captured))
    assert len(set(answers)) == 1
    assert len(set(queries)) == 1
    # One sealed row each; the worker decides, and mails the teacher only.
    assert OutboxMessage.objects.count() == 4
    outbox_send_due()
    assert [message.to for message in mail.outbox] == [[teacher.email]]


def test_principals_and_test_admins_get_no_code(client, principal, test_admin):
    ask(client, principal.username)
    ask(client, test_admin.email)
    outbox_send_due()
    assert mail.outbox == []
    assert not EmailCode.objects.exists()


def test_a_code_expires_after_thirty_minutes(client, teacher):
    ask(client, "larare")
    outbox_send_due()
    code = code_from_mail()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        response = client.post(
            "/en" + CHOOSE,
            {"username": "larare", "code": code, "new_password1": NEW, "new_password2": NEW},
        )
    assert response.status_code == 400
    assert "Ask for a new code" in response.content.decode()
    teacher.refresh_from_db()
    assert not teacher.check_password(NEW)


def test_asking_is_throttled_like_a_password(client, teacher):
    statuses = [ask(client, "larare").status_code for _ in range(4)]
    # Three free, then a growing delay (the page says until when).
    assert statuses == [302, 302, 302, 429]
    assert OutboxMessage.objects.count() == 3
    # Another address is counted apart (a school behind one address is not).
    assert ask(Client(REMOTE_ADDR="192.0.2.9"), "larare").status_code == 302


def test_the_hourly_mail_limit_of_the_account_holds(teacher):
    for number in range(7):
        ask(Client(REMOTE_ADDR=f"203.0.113.{number}"), "larare")
    outbox_send_due()
    assert len(mail.outbox) == 5


def test_a_wrong_code_is_throttled_and_audited(client, teacher):
    for _ in range(3):
        response = client.post(
            CHOOSE,
            {"username": "larare", "code": "AAAA-BBBB", "new_password1": NEW, "new_password2": NEW},
        )
        assert response.status_code == 400
    assert AuditEvent.objects.filter(action="email_code_refused").count() == 3
