"""The admin sites speak Swedish where Django and django-otp do not: the
authenticator apps, column names, search help, booleans, date and time
boxes, the wording of credentials, and a material's file link."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services.cards import card_issue
from audit.actions import AuditAction
from audit.context import AuditContext
from tests.conftest import verify_session
from tests.fixtures.material import make_material

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, national_admin):
    return verify_session(client, national_admin)


def test_authenticator_apps_are_listed_in_swedish_and_never_as_totp(admin_client, national_admin):
    index = admin_client.get("/admin/").content.decode()
    assert "Autentiseringsappar" in index
    assert "TOTP" not in index
    page = admin_client.get("/admin/accounts/authenticatorapp/").content.decode()
    for header in ("användare", "namn", "klar att använda", "tillagd", "senast använd"):
        assert re.search(rf"<th[^>]*>.*?{header}.*?</th>", page, re.S | re.I), header
    assert "Sök på användarnamn eller e-postadress" in page
    assert "Search by user" not in page
    device = TOTPDevice.objects.get(user=national_admin)
    detail = admin_client.get(f"/admin/accounts/authenticatorapp/{device.pk}/change/")
    html = detail.content.decode()
    assert "felaktiga svar i rad" in html.lower()
    assert "Throttling" not in html and "The user that this device belongs to" not in html
    # Read-only: the key is neither shown nor editable here.
    assert device.key not in html
    assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_boolean_columns_say_ja_and_nej_not_true(admin_client):
    page = admin_client.get("/admin/accounts/user/").content.decode()
    alts = set(re.findall(r'<img src="[^"]*icon-(?:yes|no)[^"]*" alt="([^"]*)">', page))
    assert alts and alts <= {"Ja", "Nej"}


def test_groups_and_their_english_permission_names_are_not_offered(admin_client, principal):
    # The names exist (Django makes them), in English only: they must not be offered.
    assert Permission.objects.filter(name__startswith="Can add").exists()
    for url in ("/admin/auth/group/", "/admin/auth/group/add/"):
        assert admin_client.get(url).status_code == 404, url
    # The only forms that could offer them: an account's, new or changed.
    forms = {
        "/admin/accounts/user/add/": "Nytt administratörskonto",
        f"/admin/accounts/user/{principal.pk}/change/": "Rektor Testsson (rektor)",
    }
    for url, title in forms.items():
        html = admin_client.get(url).content.decode()
        assert f"<title>{title} |" in html, url
        assert 'name="first_name"' in html, url
        assert "Can add" not in html, url
        assert 'name="user_permissions"' not in html and 'name="groups"' not in html, url


def test_matrix_cards_are_listed_with_swedish_columns(admin_client, principal):
    card_issue(user=principal, context=AuditContext.system())
    page = admin_client.get("/admin/accounts/matrixcarddevice/").content.decode()
    assert "felaktiga svar i rad" in page.lower()
    assert "throttling" not in page.lower()


def test_site_notice_date_and_time_boxes_each_have_a_name(admin_client):
    page = admin_client.get("/admin/core/sitenotice/add/").content.decode()
    for name in ("Visas från, datum", "Visas från, tid", "Visas till, datum", "Visas till, tid"):
        assert f'aria-label="{name}"' in page, name


def test_a_materials_file_is_linked_through_the_gate(admin_client):
    material = make_material("matte-prov")
    page = admin_client.get(f"/admin/portal/material/{material.pk}/change/").content.decode()
    assert 'href="/bedomningsportalen/material/matte-prov/fil/"' in page
    assert "_media-is-not-served" not in page


def test_credentials_are_issued_to_people_in_the_log(admin_client):
    assert str(AuditAction.PRINCIPAL_ISSUED.label) == "Inloggning utfärdad till rektor"
    assert str(AuditAction.TEST_ADMIN_ISSUED.label) == "Inloggning utfärdad till provadministratör"


def test_admin_dates_are_swedish(admin_client, principal):
    principal.date_joined = timezone.make_aware(timezone.datetime(2026, 7, 31, 12))
    principal.save()
    page = admin_client.get(f"/admin/accounts/user/{principal.pk}/change/").content.decode()
    assert "31 juli 2026" in page


def test_the_sections_are_named_in_the_pages_language(admin_client):
    """The apps' names were Swedish literals, so /en/admin/ said "BEHÖRIGHETER"."""
    swedish = admin_client.get("/admin/").content.decode()
    english = admin_client.get("/en/admin/").content.decode()
    for sv, en in (("Behörigheter", "Permissions"), ("Skolor", "Schools"), ("Konton", "Accounts")):
        assert sv in swedish and en not in swedish
        assert en in english and sv not in english
