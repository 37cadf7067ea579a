"""The first login with a school account proved by a code mailed to the
account's address instead of its password: the forgotten-password request
and EmailCode machinery (throttled, the same answer whatever was typed,
single use, 30 minutes), for teachers only, audited."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from core.models import OutboxMessage
from core.outbox import outbox_send_due
from federation.models import FederatedIdentity
from permissions.models import EmailCode
from tests.federation.test_saml_login import logged_in_user_id, post_answer, start

pytestmark = pytest.mark.django_db

CONFIRM = "/logga-in/skolkonto/bekrafta/"
SEND = "/logga-in/skolkonto/bekrafta/skicka-kod/"
CODE = "/logga-in/skolkonto/bekrafta/kod/"
RESET_CODE = "/bedomningsportalen/glomt-losenord/nytt-losenord/"


def code_from_mail() -> str:
    [message] = mail.outbox
    return re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", message.body).group(1)


def first_login(client, school_idp):
    page = post_answer(client, school_idp.answer(start(client, school_idp)))
    assert page["Location"] == CONFIRM
    return page


def ask_code(client, typed):
    return client.post(SEND, {"account": typed})


@pytest.mark.parametrize("typed", ["larare", "LARARE@example.se"])
def test_a_teacher_without_a_password_links_with_a_mailed_code(
    client, school_idp, teacher, grundskola, typed
):
    teacher.set_unusable_password()
    teacher.save()
    first_login(client, school_idp)
    assert SEND in client.get(CONFIRM).content.decode()
    assert "kim@testkommun.se" in client.get(SEND).content.decode()
    response = ask_code(client, typed)
    assert response.status_code == 302 and response["Location"] == CODE
    outbox_send_due()
    assert mail.outbox[0].to == [teacher.email]
    body = mail.outbox[0].body
    assert "kim@testkommun.se" in body and "larare" in body
    row = EmailCode.objects.get(user=teacher, purpose="link_school_account")
    assert row.expires_at - row.created_at == datetime.timedelta(minutes=30)
    page = client.get(CODE)
    assert page.status_code == 200
    done = client.post(CODE, {"username": "larare", "code": code_from_mail().lower()})
    assert done.status_code == 302 and done["Location"] == "/bedomningsportalen/"
    assert logged_in_user_id(client) == str(teacher.pk)
    link = FederatedIdentity.objects.get()
    assert (link.user, link.proof) == (teacher, "email_code")
    linked = AuditEvent.objects.get(action="federated_identity_linked")
    assert linked.details["proof"] == "email_code"
    sent = AuditEvent.objects.get(action="email_code_sent", school_unit=grundskola)
    assert sent.details["purpose"] == "link_school_account"
    # Single use, and it set no password.
    teacher.refresh_from_db()
    assert not teacher.has_usable_password()
    row.refresh_from_db()
    assert row.used_at is not None


def test_the_answer_and_the_work_are_the_same_whatever_was_typed(client, school_idp, teacher):
    first_login(client, school_idp)
    unknown = ask_code(client, "nobody@example.se")
    assert unknown.status_code == 302 and unknown["Location"] == CODE
    assert OutboxMessage.objects.filter(kind="school_account_code").count() == 1
    outbox_send_due()
    assert mail.outbox == []
    assert not EmailCode.objects.exists()


def test_principals_get_no_code(client, school_idp, principal):
    first_login(client, school_idp)
    assert ask_code(client, principal.username).status_code == 302
    outbox_send_due()
    assert mail.outbox == []


def test_a_wrong_code_links_nothing_and_is_audited_and_throttled(client, school_idp, teacher):
    first_login(client, school_idp)
    ask_code(client, "larare")
    outbox_send_due()
    code = code_from_mail()
    for _ in range(8):
        wrong = client.post(CODE, {"username": "larare", "code": "AAAA-AAAA"})
        assert wrong.status_code == 400
    assert not FederatedIdentity.objects.exists()
    assert logged_in_user_id(client) is None
    assert AuditEvent.objects.filter(action="email_code_refused").exists()
    # Now delayed: even the right code waits.
    held = client.post(CODE, {"username": "larare", "code": code})
    assert held.status_code == 400
    assert not FederatedIdentity.objects.exists()


def test_an_expired_code_links_nothing(client, school_idp, teacher):
    first_login(client, school_idp)
    ask_code(client, "larare")
    outbox_send_due()
    code = code_from_mail()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=29)):
        # The school account waits in the session as long as the code works…
        assert client.get(CODE).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        response = client.post(CODE, {"username": "larare", "code": code})
    # …and no longer.
    assert response.status_code == 302 and response["Location"] == "/logga-in/skolkonto/"
    assert not FederatedIdentity.objects.exists()


def test_a_link_code_never_sets_a_password_and_a_reset_code_never_links(
    client, school_idp, teacher
):
    first_login(client, school_idp)
    ask_code(client, "larare")
    outbox_send_due()
    code = code_from_mail()
    new = "ett-eget-nytt-losenord-42"
    reset = client.post(
        RESET_CODE,
        {"username": "larare", "code": code, "new_password1": new, "new_password2": new},
    )
    assert reset.status_code == 400
    teacher.refresh_from_db()
    assert not teacher.check_password(new)
    # A forgotten-password code is no proof for a link.
    mail.outbox.clear()
    client.post("/bedomningsportalen/glomt-losenord/", {"username": "larare"})
    outbox_send_due()
    refused = client.post(CODE, {"username": "larare", "code": code_from_mail()})
    assert refused.status_code == 400
    assert not FederatedIdentity.objects.exists()


def test_code_requests_are_throttled_under_the_typed_text(client, school_idp, teacher):
    first_login(client, school_idp)
    statuses = [ask_code(client, "larare").status_code for _ in range(8)]
    assert statuses[0] == 302 and statuses[-1] == 429
    held = client.post(SEND, {"account": "larare"})
    assert held.status_code == 429 and "vänta till" in held.content.decode()


def test_an_empty_request_is_a_clear_error_and_no_session_means_no_code(client, school_idp):
    assert client.post(SEND, {"account": "x"}).status_code == 302
    assert not OutboxMessage.objects.exists()
    first_login(client, school_idp)
    page = ask_code(client, "")
    assert page.status_code == 400
    assert not OutboxMessage.objects.exists()


def test_an_account_deactivated_after_the_mail_is_not_linked(client, school_idp, teacher):
    first_login(client, school_idp)
    ask_code(client, "larare")
    outbox_send_due()
    teacher.is_active = False
    teacher.save()
    page = client.post(CODE, {"username": "larare", "code": code_from_mail()})
    assert page.status_code == 200
    assert "accounts/account_closed.html" in [t.name for t in page.templates]
    assert not FederatedIdentity.objects.exists()
    assert logged_in_user_id(client) is None
