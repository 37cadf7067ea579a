"""Help, the contact form and the huvudman contact look-up."""

import pytest
from django.conf import settings
from django.core import mail

from portal.models import SupportTicket
from schools.models import PrincipalAssignment
from tests.conftest import deliver_mail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school_day")]

CONTACT = "/kontakt/"
LOOKUP = "/kontakt/huvudman/"


def ticket(**overrides) -> dict:
    return {
        "name": "Anna Andersson",
        "email": "anna@example.se",
        "subject": "Hittar inte provet",
        "message": "Var finns förra årets prov i matematik?",
        "website": "",
        **overrides,
    }


# SPEC.md "Questions the help page must answer", in order, and issue 10's topics.
HELP_QUESTIONS = {
    "new-principal": "Jag är ny rektor: hur får jag och lärarna på min skola inloggningar?",
    "huvudman-contact": "Vem hos min huvudman kontaktar jag?",
    "principal-portal": "Jag är rektor och kommer inte in i Bedömningsportalen",
    "new-credentials": "Vem ber jag om nya inloggningsuppgifter till E-tjänster?",
    "matrix": "Varför visar inte inloggningssidan hela min inloggningsmatris?",
    "reactivate": "Måste jag återaktivera mina lärare varje år?",
    "register-where": "Jag försöker logga in i Bedömningsportalen för att registrera lärare",
    "register": "Hur registrerar jag lärare, och vilka ämnen ska jag ge dem?",
    "left": "Vad gör jag med personal som har slutat?",
    "no-access": "Jag har registrerat lärare, men de kommer ändå inte åt skyddat material",
    "levels": "Kan vuxenutbildningen eller introduktionsprogrammet få grundskolans material?",
    "lost-credentials": "Jag har tappat bort mitt lösenord eller mitt kort",
}


def _section(html: str, anchor: str) -> str:
    """The text of one answer: from its heading to the next."""
    start = html.index(f'<h2 id="{anchor}">')
    return html[start : html.index("<h2", start + 1)]


def test_help_page_answers_every_question_of_the_spec_in_its_own_section(client, db):
    html = client.get("/hjalp/").content.decode()
    for anchor, question in HELP_QUESTIONS.items():
        assert question in _section(html, anchor), anchor
        # The table of contents links to each answer.
        assert f'href="#{anchor}"' in html
    assert "inte på lärarens lärarlegitimation" in _section(html, "register")
    assert "bara inaktiveras" in _section(html, "left")
    assert "inte har registrerat din e-postadress" in _section(html, "new-principal")
    assert "tom kontur" in _section(html, "matrix")
    for role in ("Lärare", "Provadministratörer", "Rektorer"):
        assert f"<dt>{role}</dt>" in _section(html, "lost-credentials")


def test_help_reads_which_forms_reach_which_level_from_the_policy_table(client, db):
    from permissions.models import LevelPolicy

    levels = _section(client.get("/hjalp/").content.decode(), "levels")
    assert "Sameskola: material på grundskolenivå" in levels
    assert "Kommunal vuxenutbildning: material på gymnasienivå" in levels
    assert "med Kommunal vuxenutbildning kan alltså inte få grundskolans material" in levels

    LevelPolicy.objects.filter(school_form_id="sameskola").delete()
    LevelPolicy.objects.create(school_form_id="kommunal_vuxenutbildning", level="grundskola")
    levels = _section(client.get("/hjalp/").content.decode(), "levels")
    assert "Sameskola: inget skyddat material" in levels
    assert "material på grundskolenivå och gymnasienivå" in levels
    assert "med Kommunal vuxenutbildning kan alltså få grundskolans material" in levels


def test_help_page_is_in_english_under_en(client, db):
    html = client.get("/en/hjalp/").content.decode()
    assert '<html lang="en">' in html
    assert "Must I reactivate my teachers every year?" in html
    assert "Kommunal vuxenutbildning: material at upper secondary level" in html


def test_contact_form_stores_a_ticket_and_mails_support_after_commit(client):
    response = client.post(CONTACT, ticket(), REMOTE_ADDR="203.0.113.7")
    deliver_mail()
    assert response.status_code == 302
    stored = SupportTicket.objects.get()
    assert (stored.email, stored.client_address) == ("anna@example.se", "203.0.113.7")
    [message] = mail.outbox
    assert message.to == [settings.SUPPORT_EMAIL]
    assert message.reply_to == ["anna@example.se"]
    assert "Var finns förra årets prov i matematik?" in message.body
    assert "Tack!" in client.get(CONTACT).content.decode()


def test_a_filled_honeypot_is_dropped_silently(client):
    response = client.post(CONTACT, ticket(website="http://spam.example"), follow=True)
    deliver_mail()
    assert response.status_code == 200
    assert "Tack!" in response.content.decode()
    assert not SupportTicket.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("message", "x" * 5001), ("subject", "y" * 201), ("name", ""), ("email", "inte-en-adress")],
)
def test_bad_contact_input_gets_a_clear_message_and_nothing_is_sent(client, field, value):
    response = client.post(CONTACT, ticket(**{field: value}))
    deliver_mail()
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not SupportTicket.objects.exists()
    assert mail.outbox == []


def test_contact_form_allows_five_messages_an_hour_per_address(client):
    for _ in range(5):
        assert client.post(CONTACT, ticket(), REMOTE_ADDR="198.51.100.1").status_code == 302
    refused = client.post(CONTACT, ticket(), REMOTE_ADDR="198.51.100.1")
    other_address = client.post(CONTACT, ticket(), REMOTE_ADDR="198.51.100.2")
    deliver_mail()
    assert refused.status_code == 429
    assert "För många meddelanden" in refused.content.decode()
    assert other_address.status_code == 302
    assert SupportTicket.objects.count() == 6
    assert len(mail.outbox) == 6


def test_the_rate_limit_window_passes_after_an_hour(client, school_day):
    for _ in range(5):
        client.post(CONTACT, ticket(), REMOTE_ADDR="198.51.100.1")
    assert client.post(CONTACT, ticket(), REMOTE_ADDR="198.51.100.1").status_code == 429
    assert SupportTicket.objects.count() == 5
    school_day.shift(3601)
    response = client.post(CONTACT, ticket(), REMOTE_ADDR="198.51.100.1")
    assert response.status_code == 302
    assert response["Location"] == CONTACT
    assert "Tack!" in client.get(CONTACT).content.decode()
    assert SupportTicket.objects.count() == 6


def lookup(client, code: str, email: str, address: str = "192.0.2.10"):
    return client.post(LOOKUP, {"skolenhetskod": code, "email": email}, REMOTE_ADDR=address)


def test_a_principal_of_the_school_gets_the_huvudman_contact_by_mail(client, principal, grundskola):
    response = lookup(client, "11111111", "REKTOR@example.se")
    deliver_mail()
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["rektor@example.se"]
    assert "Kim Kontakt" in message.body
    assert "kontakt@testkommun.se" in message.body
    assert "010-111 22 33" in message.body


@pytest.mark.parametrize(
    ("code", "email"),
    [
        ("99999999", "rektor@example.se"),  # a school the principal does not lead
        ("11111111", "someone@example.se"),  # not a principal's address
        ("11111111", "larare@example.se"),  # a teacher, not a principal
    ],
)
def test_the_lookup_answers_the_same_whether_or_not_it_matched(
    client, principal, teacher, other_school, code, email
):
    matched = lookup(client, "11111111", "rektor@example.se", "192.0.2.1")
    matched_page = client.get(matched["Location"]).content.decode()
    unmatched = lookup(client, code, email, "192.0.2.2")
    unmatched_page = client.get(unmatched["Location"]).content.decode()
    deliver_mail()
    assert matched.status_code == unmatched.status_code == 302
    assert matched["Location"] == unmatched["Location"]
    strip = lambda html: html.split('name="csrfmiddlewaretoken" value="')[0]  # noqa: E731
    assert strip(matched_page) == strip(unmatched_page)
    assert len(mail.outbox) == 1


def test_an_unlinked_principal_gets_no_mail(client, principal, grundskola):
    PrincipalAssignment.objects.filter(user=principal, school_unit=grundskola).delete()
    lookup(client, "11111111", "rektor@example.se")
    assert mail.outbox == []


def test_the_lookup_is_rate_limited_per_address_and_per_email(client, principal):
    for index in range(3):
        assert lookup(client, "11111111", "rektor@example.se", f"192.0.2.{index}").status_code == (
            302
        )
    # A fourth mail to the same principal within the hour is refused, from any address.
    assert lookup(client, "11111111", "rektor@example.se", "192.0.2.99").status_code == 429
    for index in range(5):
        lookup(client, "11111111", f"x{index}@example.se", "192.0.2.200")
    assert lookup(client, "11111111", "y@example.se", "192.0.2.200").status_code == 429
    deliver_mail()
    assert len(mail.outbox) == 3


@pytest.mark.parametrize(
    ("code", "email"), [("1234", "a@example.se"), ("11111111", "a" * 300 + "@example.se")]
)
def test_bad_lookup_input_gets_a_message_not_an_error(client, code, email):
    response = lookup(client, code, email)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert mail.outbox == []


def test_line_breaks_in_the_subject_never_reach_the_mail_headers(client):
    response = client.post(CONTACT, ticket(subject="Hej\r\nBcc: alla@example.se"))
    deliver_mail()
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.subject.endswith("Hej Bcc: alla@example.se")
    assert message.bcc == []


def test_the_lookup_does_the_same_work_whether_or_not_it_matched(client, principal, grundskola):
    """Same queries, same page: the outbox worker decides, not the request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def shape(code, email, address):
        with CaptureQueriesContext(connection) as queries:
            response = lookup(client, code, email, address)
        # The statements' kinds and tables, without their values and savepoint names.
        return (
            response.status_code,
            response["Location"],
            [
                " ".join(query["sql"].split()[:4])
                for query in queries.captured_queries
                if "SAVEPOINT" not in query["sql"]
            ],
        )

    assert shape("11111111", "rektor@example.se", "192.0.2.1") == shape(
        "11111111", "nobody@example.se", "192.0.2.2"
    )
    report = deliver_mail()
    assert (report.sent, report.discarded) == (1, 1)
