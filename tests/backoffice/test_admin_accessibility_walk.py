"""Every reader on the admin sites too (issue 22, part 10): errors as on the
public sites, the footer, the idle warning, the search box's name, delete
pages that name the object."""

import re

import pytest

from tests.conftest import verify_session
from tests.fixtures.material import make_material


def title(html: str) -> str:
    return re.search(r"<title>([^<]*)</title>", html).group(1)


@pytest.mark.parametrize("site", ["/en/admin/", "/en/huvudman/"])
def test_a_refused_admin_login_says_error_in_the_title_and_sums_up(client, db, site):
    html = client.post(
        f"{site}login/", {"username": "nobody", "password": "wrong", "otp_token": "123456"}
    ).content.decode()
    assert title(html).startswith("Error: ")
    assert 'id="error-summary"' in html


def test_issuing_a_principal_with_errors_links_each_to_its_field(client, huvudman_staff):
    staff = verify_session(client, huvudman_staff)
    html = staff.post(
        "/en/huvudman/schools/principal/add/", {"name": "", "email": "not-an-address"}
    ).content.decode()
    assert title(html).startswith("Error: ")
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#id_email"' in summary and 'href="#id_name"' in summary
    # The error is tied to its field.
    email = re.search(r"<input[^>]*id=\"id_email\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in email
    assert "id_email_error" in email


@pytest.mark.parametrize(
    ("who", "site"), [("national_admin", "/en/admin/"), ("huvudman_staff", "/en/huvudman/")]
)
def test_the_admin_footer_links_the_statement_help_contact_and_the_other_language(
    client, request, who, site
):
    html = verify_session(client, request.getfixturevalue(who)).get(site).content.decode()
    footer = html.split('<footer id="footer">')[1].split("</footer>")[0]
    for path in ("/en/tillganglighet/", "/en/hjalp/", "/en/kontakt/"):
        assert f'href="{path}"' in footer or path.replace("/en", "") in footer
    assert 'hreflang="sv"' in footer
    # The idle warning with "Continue" is on the admin sites too.
    assert 'id="session-warning"' in html
    assert "js/session.js" in html


def test_the_search_box_is_named_in_the_pages_language(client, national_admin):
    html = verify_session(client, national_admin).get("/admin/accounts/user/").content.decode()
    assert (
        '<label for="searchbar"><img src="/static/admin/img/search.svg" alt="Sök"></label>' in html
    )


def test_a_delete_page_names_what_is_deleted(client, national_admin):
    material = make_material("gammalt-prov", title="Gammalt prov")
    html = (
        verify_session(client, national_admin)
        .get(f"/en/admin/portal/material/{material.pk}/delete/")
        .content.decode()
    )
    assert "Delete “Gammalt prov”?" in title(html)
    assert "<h1>Delete “Gammalt prov”?</h1>" in html
