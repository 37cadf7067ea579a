"""A confirmed act is done once: sending its confirmation again (a reload of
the page that showed a new password or card, a second press) does nothing
the second time and says so (`core.once`); found by a black-box walk."""

import re

import pytest
from django.contrib.auth import authenticate

from accounts.models import MatrixCardDevice, User
from audit.models import AuditEvent
from permissions.models import Membership
from tests.conftest import END_OF_YEAR

pytestmark = pytest.mark.django_db

AGAIN = "Formuläret hade redan skickats"


def confirmation_form(client, path: str, data=None) -> dict:
    """The fields of the confirmation page's form, as the browser sends them."""
    page = client.post(path, data or {}) if data is not None else client.get(path)
    html = page.content.decode()
    assert page.status_code == 200, html[:300]
    form = html[html.index('<form method="post" action="' + path) :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert fields.get("confirm") == "yes" and fields.get("once")
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_reloaded_new_password_page_gives_no_second_password(
    principal_client, grundskola, teacher
):
    path = f"/e-tjanster/skolor/{grundskola.code}/larare/larare/losenord/"
    form = confirmation_form(principal_client, path)
    first = principal_client.post(path, form).content.decode()
    password = re.search(r"<dt>Lösenord</dt><dd><code>([^<]+)<", first).group(1)
    again = principal_client.post(path, form, follow=True)
    assert again.redirect_chain[-1][0] == f"/e-tjanster/skolor/{grundskola.code}/larare/larare/"
    assert any(AGAIN in message for message in said(again))
    # The password shown (and printed) first still works; it was issued once.
    assert authenticate(username="larare", password=password) == teacher
    assert AuditEvent.objects.filter(action="password_regenerated").count() == 1


def test_a_second_removal_of_the_same_teacher_says_so_instead_of_a_404(
    principal_client, grundskola, other_school, teacher
):
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    path = f"/e-tjanster/skolor/{grundskola.code}/larare/larare/ta-bort/"
    form = confirmation_form(principal_client, path)
    assert principal_client.post(path, form).status_code == 302
    again = principal_client.post(path, form, follow=True)
    assert again.status_code == 200
    assert again.redirect_chain[-1][0] == f"/e-tjanster/skolor/{grundskola.code}/larare/"
    assert any(AGAIN in message for message in said(again))
    assert AuditEvent.objects.filter(action="membership_removed").count() == 1


def test_restoring_twice_says_the_teacher_is_back(
    principal_client, grundskola, other_school, teacher
):
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    membership = teacher.memberships.get(school_unit=grundskola)
    principal_client.post(
        f"/e-tjanster/skolor/{grundskola.code}/larare/larare/ta-bort/", {"confirm": "yes"}
    )
    path = f"/e-tjanster/skolor/{grundskola.code}/larare-borttagna/{membership.pk}/aterstall/"
    assert principal_client.post(path).status_code == 302
    again = principal_client.post(path, follow=True)
    assert again.status_code == 200
    assert "Larare Testsson är redan lärare på skolan igen." in said(again)
    assert AuditEvent.objects.filter(action="membership_restored").count() == 1
    # Another school's membership is still not found.
    elsewhere = teacher.memberships.get(school_unit=other_school)
    missing = f"/e-tjanster/skolor/{grundskola.code}/larare-borttagna/{elsewhere.pk}/aterstall/"
    assert principal_client.post(missing).status_code == 404


def test_a_reloaded_test_admin_card_page_issues_no_second_card(
    principal_client, grundskola, test_admin
):
    path = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/kort/"
    form = confirmation_form(principal_client, path)
    principal_client.post(path, form)
    serial = MatrixCardDevice.objects.get(user=test_admin, confirmed=True).serial
    again = principal_client.post(path, form, follow=True)
    assert any(AGAIN in message for message in said(again))
    assert MatrixCardDevice.objects.get(user=test_admin, confirmed=True).serial == serial


def test_a_reloaded_principal_credentials_page_issues_nothing_new(staff_client, issued):
    principal = issued.user
    path = f"/huvudman/schools/principal/{principal.pk}/regenerate/"
    form = confirmation_form(staff_client, path, {"password": "on", "card": "on"})
    page = staff_client.post(path, form).content.decode()
    password = re.search(r'id="issued-password">([^<]+)<', page).group(1)
    serial = MatrixCardDevice.objects.get(user=principal, confirmed=True).serial
    again = staff_client.post(path, form, follow=True)
    assert any(AGAIN in str(message) for message in again.context["messages"])
    assert authenticate(username=principal.username, password=password) == principal
    assert MatrixCardDevice.objects.get(user=principal, confirmed=True).serial == serial
    assert User.objects.get(pk=principal.pk).is_active


def test_two_confirmation_pages_are_two_confirmations(principal_client, grundskola, teacher):
    """Each page carries its own token: confirming from a fresh page acts again."""
    path = f"/e-tjanster/skolor/{grundskola.code}/larare/larare/losenord/"
    for _ in range(2):
        principal_client.post(path, confirmation_form(principal_client, path))
    assert AuditEvent.objects.filter(action="password_regenerated").count() == 2


def test_a_reloaded_registration_result_registers_nothing_and_says_why(
    principal_client, grundskola
):
    path = f"/e-tjanster/skolor/{grundskola.code}/larare/ny/"
    page = principal_client.get(path).content.decode()
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    data = {
        "first_name": "Ny",
        "last_name": "Lärare",
        "email": "ny@skola.example",
        "subjects": ["GRGRMAT01"],
        "once": once,
    }
    assert principal_client.post(path, data).status_code == 200
    again = principal_client.post(path, data, follow=True)
    assert again.redirect_chain[-1][0] == f"/e-tjanster/skolor/{grundskola.code}/larare/"
    assert any(AGAIN in message for message in said(again))
    assert "redan registrerad" not in again.content.decode()
    assert Membership.objects.filter(user__email="ny@skola.example").count() == 1


def test_a_teacher_removed_lately_is_restored_not_registered_again(
    principal_client, grundskola, other_school, teacher
):
    """Registering the address again would link the account anew (waiting for
    the teacher's confirmation and a new password) and hide the restorable
    entry: the form points to "Borttagna lärare" instead, and so does the
    CSV import's preview."""
    from permissions.imports.plan import plan_import

    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    principal_client.post(
        f"/e-tjanster/skolor/{grundskola.code}/larare/larare/ta-bort/", {"confirm": "yes"}
    )
    page = principal_client.post(
        f"/e-tjanster/skolor/{grundskola.code}/larare/ny/",
        {
            "first_name": "Lars",
            "last_name": "Lärare",
            "email": teacher.email.upper(),
            "subjects": ["GRGRMAT01"],
        },
    ).content.decode()
    assert "kan återställas, med samma ämnen, av rektorn under ”Borttagna lärare”" in page
    assert not Membership.objects.live().filter(user=teacher, school_unit=grundskola).exists()
    plan = plan_import(
        school_unit=grundskola,
        text=f"Förnamn;Efternamn;E-post;Ämnen\nLars;Lärare;{teacher.email};GRGRMAT01\n",
    )
    (row,) = plan.errors
    assert "Borttagna lärare" in " ".join(row.errors)
