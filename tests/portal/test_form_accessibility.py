"""Forms as WCAG 2.1 AA asks, on every page through one rendering
(templates/forms/): an error summary with "Fel:" in the title, help texts and
errors with the ids aria-describedby names, required fields marked with the
rule stated once, autocomplete on the user's own data, and novalidate."""

import re

import pytest
from django.test import Client

from portal.models import SupportTicket, TicketCategory
from tests.conftest import deliver_mail, verify_session

pytestmark = pytest.mark.django_db


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def input_tag(html: str, name: str) -> str:
    return re.search(rf'<(?:input|textarea|select)[^>]*name="{name}"[^>]*>', html).group(0)


def test_a_failed_submit_puts_fel_in_the_title_and_a_summary_linking_each_field(client):
    response = client.post("/kontakt/", {"email": "inte-en-adress", "website": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert title(html).startswith("Fel: ")
    summary = re.search(
        r'<div class="error-summary" id="error-summary"[^>]*>(.*?)</div>\s*</div>', html, re.S
    )
    assert "autofocus" in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    links = dict(re.findall(r'<a href="#(id_\w+)">([^<]*)</a>', summary.group(1)))
    assert set(links) == {"id_name", "id_email", "id_subject", "id_message"}
    assert links["id_email"].startswith("Din e-postadress: ")
    # Each field names its own error, which has the id Django refers to.
    email = input_tag(html, "email")
    assert 'aria-invalid="true"' in email
    assert "id_email_error" in re.search(r'aria-describedby="([^"]*)"', email).group(1)
    assert 'id="id_email_error"' in html


def test_a_page_without_errors_has_no_summary_and_a_plain_title(client):
    html = client.get("/kontakt/").content.decode()
    assert "error-summary" not in html
    assert not title(html).startswith("Fel")


def test_a_wrong_password_is_in_the_summary_and_the_title(client, teacher):
    response = client.post(
        "/bedomningsportalen/logga-in/", {"username": "larare", "password": "fel"}
    )
    html = response.content.decode()
    assert title(html).startswith("Fel: ")
    assert re.search(r'id="error-summary".*Fel användarnamn eller lösenord', html, re.S)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/kontakt/", "message"),
        ("/kontakt/huvudman/", "skolenhetskod"),
        ("/kontakt/huvudman/", "email"),
    ],
)
def test_help_texts_have_the_ids_that_aria_describedby_names(client, path, field):
    html = client.get(path).content.decode()
    described = re.search(r'aria-describedby="([^"]*)"', input_tag(html, field)).group(1)
    for target in described.split():
        assert f'id="{target}"' in html, target


def test_the_account_page_help_texts_are_found_too(teacher):
    from django.test import Client

    client = Client()
    client.force_login(teacher)
    html = client.get("/bedomningsportalen/konto/").content.decode()
    described = re.search(r'aria-describedby="([^"]*)"', input_tag(html, "new_password1")).group(1)
    assert f'id="{described}"' in html


def test_the_users_own_name_and_address_can_be_filled_in_by_the_browser(client):
    contact = client.get("/kontakt/").content.decode()
    assert 'autocomplete="name"' in input_tag(contact, "name")
    assert 'autocomplete="email"' in input_tag(contact, "email")
    lookup = client.get("/kontakt/huvudman/").content.decode()
    assert 'autocomplete="email"' in input_tag(lookup, "email")


def test_another_persons_name_is_never_filled_with_the_principals_own(principal, grundskola):
    client = verify_session(Client(), principal)
    html = client.get(f"/e-tjanster/skolor/{grundskola.code}/larare/ny/").content.decode()
    for field in ("first_name", "last_name", "email"):
        assert 'autocomplete="off"' in input_tag(html, field)


def test_required_fields_are_marked_and_the_rule_is_stated_once(principal_client, grundskola):
    html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/larare/ny/").content.decode()
    assert html.count("Fält markerade med") == 1
    for label in ("Förnamn", "Efternamn", "E-post"):
        assert re.search(
            rf'>{label}<span class="required-mark" aria-hidden="true"> \*</span>', html
        )
    # Optional fields carry no mark.
    assert not re.search(r'Skicka även lappen[^<]*<span class="required-mark"', html)


@pytest.mark.parametrize(
    "path",
    ["/kontakt/", "/kontakt/huvudman/", "/bedomningsportalen/logga-in/", "/e-tjanster/logga-in/"],
)
def test_every_form_with_a_required_field_leaves_checking_to_the_server(client, path):
    html = client.get(path).content.decode()
    for form in re.findall(r"<form[^>]*>.*?</form>", html, re.S):
        if " required" in form:
            assert "novalidate" in form.split(">", 1)[0], form[:80]


def test_the_accessibility_statement_preselects_its_category_on_the_contact_form(client):
    html = client.get("/kontakt/?kategori=tillganglighet").content.decode()
    assert '<option value="accessibility" selected>' in html


def test_a_reported_accessibility_problem_is_stored_and_mailed_with_its_category(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/kontakt/",
            {
                "category": "accessibility",
                "name": "Anna",
                "email": "anna@example.se",
                "subject": "Skärmläsare",
                "message": "Matrissteget läses upp fel.",
                "website": "",
            },
        )
    assert response.status_code == 302
    assert SupportTicket.objects.get().category == TicketCategory.ACCESSIBILITY
    deliver_mail()
    assert "Kategori: Tillgänglighetsproblem" in mailoutbox[0].body


def test_an_unknown_category_is_a_form_error_and_nothing_is_stored(client):
    response = client.post(
        "/kontakt/",
        {"category": "spam", "name": "A", "email": "a@example.se", "subject": "S", "message": "M"},
    )
    assert response.status_code == 400
    assert not SupportTicket.objects.exists()


def test_every_page_links_the_accessibility_statement_in_its_footer(client, teacher):
    for path in ("/", "/hjalp/", "/bedomningsportalen/", "/finns-inte/"):
        html = client.get(path).content.decode()
        footer = html[html.index('<footer class="site-footer">') :]
        assert '<a href="/tillganglighet/">Tillgänglighetsredogörelse</a>' in footer, path
    statement = client.get("/tillganglighet/").content.decode()
    for heading in (
        "Hur tillgänglig är webbplatsen?",
        "Tillsyn",
        "Innehåll som inte är tillgängligt",
    ):
        assert heading in statement
    assert 'href="https://www.digg.se/tdosanmalan"' in statement
    assert 'href="/kontakt/?kategori=tillganglighet"' in statement


def test_the_statement_follows_every_part_of_diggs_model(client, settings):
    """Issue 22: a publication date, an e-mail route with a response time,
    and the three headings for content that is not accessible, each item
    with its criterion."""
    settings.SUPPORT_EMAIL = "tillganglighet@example.se"
    html = client.get("/en/tillganglighet/").content.decode()
    assert 'href="mailto:tillganglighet@example.se"' in html
    assert "We answer within 5 working days." in html
    assert "The website was published on" in html
    assert "The latest assessment was made on" in html
    for heading in (
        "Lack of compliance with the requirements",
        "Disproportionate burden",
        "Content not within the scope of the applicable legislation",
    ):
        assert f"<h4>{heading}</h4>" in html
    items = html.split("<h4>Lack of compliance")[1].split("<h2>")[0]
    for item in items.split("<li>")[1:]:
        assert "WCAG " in item, item
    # No longer "not tagged": the PDFs are tagged now.
    assert "are not tagged" not in html


def test_the_help_page_tells_each_role_what_is_new(client):
    html = client.get("/en/hjalp/").content.decode()
    section = html.split('id="new-tools"')[1]
    for role in ("principals and test administrators", "principals", "huvudman staff"):
        assert f"For {role}</h3>" in section
    assert "Tick all on this page" in section
    assert "See the catalogue as this teacher sees it" in section
    assert "Handover" in section
