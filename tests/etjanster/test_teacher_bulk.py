"""Work on the ticked teachers of the list: grant or remove one subject,
print or e-mail their slips, each confirmed first, in a constant number of
queries however many are ticked."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from audit.actions import AuditAction
from audit.models import AuditEvent
from core.models import OutboxMessage
from core.outbox import outbox_send_due
from permissions.models import Membership, Subject
from tests.fixtures.staff import make_teachers


def bulk_url(school, lang="/en") -> str:
    return f"{lang}/e-tjanster/skolor/{school.code}/larare/markerade/"


def confirm(client, school, data: dict):
    """Post the choice, then the confirmation page's form as it came."""
    page = client.post(bulk_url(school), data)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="confirm" value="yes"' in html
    once = html.split('name="once" value="')[1].split('"')[0]
    return page, client.post(bulk_url(school), {**data, "confirm": "yes", "once": once})


def codes(membership: Membership) -> set[str]:
    return set(membership.subjects.values_list("code", flat=True))


def test_granting_a_subject_asks_first_naming_the_count_then_keeps_the_other_subjects(
    principal_client, grundskola
):
    teachers = make_teachers(grundskola, 3)
    usernames = [m.user.username for m in teachers[:2]]
    data = {"teacher": usernames, "action": "grant", "subject": "GRGRENG01"}
    page, done = confirm(principal_client, grundskola, data)
    html = page.content.decode()
    assert "Grant the subject – 2 teachers" in html
    english = Subject.objects.get(code="GRGRENG01").name
    assert f"{english} is granted to 2 teachers" in html
    assert done.status_code == 302
    for membership in teachers[:2]:
        assert "GRGRENG01" in codes(membership) and len(codes(membership)) == 2
    assert codes(teachers[2]) == {"GRGRMAT01"}
    assert AuditEvent.objects.filter(action=AuditAction.MEMBERSHIP_GRANTED).count() == 2


def test_the_confirmation_page_changes_nothing(principal_client, grundskola):
    (membership,) = make_teachers(grundskola, 1)
    principal_client.post(
        bulk_url(grundskola),
        {"teacher": [membership.user.username], "action": "revoke", "subject": "GRGRMAT01"},
    )
    assert codes(membership) == {"GRGRMAT01"}


def test_removing_a_subject_removes_only_that_one(principal_client, grundskola, teacher):
    membership = teacher.memberships.get()
    data = {"teacher": [teacher.username], "action": "revoke", "subject": "GRGRMAT01"}
    _page, done = confirm(principal_client, grundskola, data)
    assert codes(membership) == {"GRGRSVE01"}
    followed = principal_client.get(done["Location"]).content.decode()
    assert "was removed from 1 teacher" in followed


def test_the_same_confirmation_sent_twice_acts_once(principal_client, grundskola, teacher):
    data = {"teacher": [teacher.username], "action": "mail"}
    page = principal_client.post(bulk_url(grundskola), data).content.decode()
    once = page.split('name="once" value="')[1].split('"')[0]
    for _ in range(2):
        principal_client.post(bulk_url(grundskola), {**data, "confirm": "yes", "once": once})
    assert OutboxMessage.objects.count() == 1


def test_granting_without_a_subject_is_explained(principal_client, grundskola, teacher):
    response = principal_client.post(
        bulk_url(grundskola), {"teacher": [teacher.username], "action": "grant"}, follow=True
    )
    assert "Choose the subject to grant or remove." in response.content.decode()


def test_nothing_ticked_is_explained(principal_client, grundskola):
    response = principal_client.post(bulk_url(grundskola), {"action": "print"}, follow=True)
    assert "Tick at least one teacher first." in response.content.decode()


def test_printing_gives_one_pdf_of_the_confirmed_teachers(principal_client, grundskola, teacher):
    pending = make_teachers(grundskola, 1, prefix="p")[0]
    Membership.objects.filter(pk=pending.pk).update(confirmed_at=None)
    data = {"teacher": [teacher.username, pending.user.username], "action": "print"}
    page, pdf = confirm(principal_client, grundskola, data)
    assert "awaits the teacher&#x27;s confirmation" in page.content.decode()
    assert pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 1
    assert teacher.username in reader.pages[0].extract_text()


def test_mailing_queues_one_mail_per_confirmed_teacher_and_survives_an_outage(
    principal_client, grundskola, teacher, mailoutbox, settings
):
    pending = make_teachers(grundskola, 1, prefix="p")[0]
    Membership.objects.filter(pk=pending.pk).update(confirmed_at=None)
    data = {"teacher": [teacher.username, pending.user.username], "action": "mail"}
    _page, done = confirm(principal_client, grundskola, data)
    followed = principal_client.get(done["Location"]).content.decode()
    assert "1 slip is queued for e-mail" in followed
    assert "1 ticked teacher got none" in followed
    assert mailoutbox == []  # queued, never sent by the request
    event = AuditEvent.objects.get(action=AuditAction.SLIPS_MAILED)
    assert event.details == {"teachers": [teacher.username]}
    # The mail server is down: the mail waits and goes out on a later run.
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assert outbox_send_due().retried == 1
    settings.EMAIL_BACKEND = backend
    assert outbox_send_due(now=timezone.now() + datetime.timedelta(minutes=5)).sent == 1
    (mail,) = mailoutbox
    assert mail.to == [teacher.email]
    name, content, media_type = mail.attachments[0]
    assert media_type == "application/pdf"
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert teacher.username in text
    assert "Lösenordet visas bara" not in text


def test_a_username_of_another_school_is_ignored(
    principal_client, grundskola, other_school, other_principal
):
    elsewhere = make_teachers(other_school, 1, prefix="x")[0]
    response = principal_client.post(
        bulk_url(grundskola),
        {"teacher": [elsewhere.user.username], "action": "grant", "subject": "GRGRENG01"},
        follow=True,
    )
    assert "Tick at least one teacher first." in response.content.decode()
    assert codes(elsewhere) == {"GRGRMAT01"}


def test_a_test_admin_may_work_on_the_teachers_of_its_school(
    test_admin_client, grundskola, teacher
):
    data = {"teacher": [teacher.username], "action": "grant", "subject": "GRGRENG01"}
    confirm(test_admin_client, grundskola, data)
    assert "GRGRENG01" in codes(teacher.memberships.get())


def test_anonymous_and_teachers_are_sent_to_the_login(client, teacher_client, grundskola):
    for who in (client, teacher_client):
        response = who.post(bulk_url(grundskola, lang=""), {"action": "print"})
        assert response.status_code == 302
        assert "/e-tjanster/logga-in/" in response["Location"]


@pytest.mark.parametrize("action", ["grant", "mail"])
def test_acting_on_many_takes_as_many_queries_as_on_few(principal_client, grundskola, action):
    teachers = make_teachers(grundskola, 12)

    def count(chosen) -> int:
        data = {"teacher": [m.user.username for m in chosen], "action": action}
        data["subject"] = "GRGRENG01"
        page = principal_client.post(bulk_url(grundskola), data).content.decode()
        once = page.split('name="once" value="')[1].split('"')[0]
        with CaptureQueriesContext(connection) as queries:
            principal_client.post(bulk_url(grundskola), {**data, "confirm": "yes", "once": once})
        return len(queries)

    assert count(teachers[:2]) == count(teachers[2:])
