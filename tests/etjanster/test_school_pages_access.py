"""Every E-tjänster school page: allowed, other school 404, principal-only 403,
anonymous to the E-tjänster login, and every change only by POST."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from permissions.models import TestAdministrator

pytestmark = pytest.mark.django_db

GET_PAGES = [
    "larare/",
    "larare/ny/",
    "larare/importera/",
    "larare/larare/",
    "nytt-lasar/",
    "logg/",
]
POST_ONLY = [
    "larare/mig-sjalv/",
    "larare/markerade/",
    "larare/importera/genomfor/",
    "larare/larare/lapp/",
    "larare/larare/ateraktivera/",
    "provadministratorer/provadmin/las-upp/",
]
# Each page's own title (before " – ").
TITLES = {
    "larare/": "Lärare – Testskolan F–9",
    "larare/ny/": "Registrera lärare",
    "larare/importera/": "Importera lärare från CSV",
    "larare/larare/": "Larare Testsson",
    "nytt-lasar/": "Nytt läsår",
    "logg/": "Logg – Testskolan F–9",
    "provadministratorer/": "Provadministratörer",
}
# Irreversible acts: a GET (or a POST without `confirm`) shows the confirmation.
CONFIRMED = [
    "larare/larare/losenord/",
    "larare/larare/ta-bort/",
    "provadministratorer/provadmin/inaktivera/",
    "provadministratorer/provadmin/losenord/",
    "provadministratorer/provadmin/kort/",
]


def is_school_page(response, school, path: str) -> bool:
    """The page at `path` of `school`: its own title, and the school named."""
    html = response.content.decode()
    return (
        response.status_code == 200
        and f"<title>{TITLES[path]} – Behörighetsportalen</title>" in html
        and school.name in html
    )


@pytest.mark.parametrize("path", GET_PAGES + ["provadministratorer/"])
def test_anonymous_visitor_is_sent_to_the_etjanster_login(client, grundskola, teacher, path):
    url = f"/e-tjanster/skolor/{grundskola.code}/{path}"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/e-tjanster/logga-in/?next=")


@pytest.mark.parametrize("path", GET_PAGES + ["provadministratorer/"])
def test_principal_opens_each_page_of_a_linked_school(principal_client, grundskola, teacher, path):
    response = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/{path}")
    assert is_school_page(response, grundskola, path)


@pytest.mark.parametrize("path", CONFIRMED)
def test_irreversible_acts_show_a_confirmation_and_change_nothing(
    principal_client, grundskola, teacher, test_admin, path
):
    url = f"/e-tjanster/skolor/{grundskola.code}/{path}"
    passwords = (teacher.password, test_admin.password)
    for response in (principal_client.get(url), principal_client.post(url)):
        assert response.status_code == 200
        assert 'name="confirm" value="yes"' in response.content.decode()
        assert "no-store" in response["Cache-Control"]
    teacher.refresh_from_db()
    test_admin.refresh_from_db()
    assert (teacher.password, test_admin.password) == passwords
    assert teacher.memberships.live().exists() and test_admin.is_active


@pytest.mark.parametrize("path", GET_PAGES + ["provadministratorer/"] + POST_ONLY + CONFIRMED)
def test_a_school_the_principal_does_not_lead_is_not_found(principal_client, other_school, path):
    url = f"/e-tjanster/skolor/{other_school.code}/{path}"
    if path in POST_ONLY:
        assert principal_client.post(url).status_code == 404
    else:
        assert principal_client.get(url).status_code == 404


@pytest.mark.parametrize("path", GET_PAGES)
def test_test_admin_opens_the_pages_of_its_own_school(test_admin_client, grundskola, teacher, path):
    response = test_admin_client.get(f"/e-tjanster/skolor/{grundskola.code}/{path}")
    assert is_school_page(response, grundskola, path)


def test_test_admin_does_not_reach_another_school_of_the_same_principal(
    test_admin_client, gymnasium
):
    assert test_admin_client.get(f"/e-tjanster/skolor/{gymnasium.code}/larare/").status_code == 404


def test_test_admin_may_not_manage_test_admins(test_admin_client, grundskola, test_admin):
    base = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/"
    assert test_admin_client.get(base).status_code == 403
    assert test_admin_client.post(base, {"first_name": "A"}).status_code == 403
    response = test_admin_client.post(base + "provadmin/inaktivera/", {"confirm": "yes"})
    assert response.status_code == 403
    # Nothing changed: still the one test administrator, active.
    appointment = TestAdministrator.objects.get()
    assert (appointment.user, appointment.deactivated_at) == (test_admin, None)
    test_admin.refresh_from_db()
    assert test_admin.is_active


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("provadministratorer/", "Bara skolans rektor utser och hanterar provadministratörer."),
        ("larare/larare/ta-bort/", "Bara skolans rektor tar bort lärare"),
        ("larare-borttagna/", "Bara skolans rektor tar bort lärare"),
    ],
)
def test_a_refused_page_says_why(test_admin_client, grundskola, teacher, path, reason):
    """Found by black-box walk 3: every 403 was the same page, never saying why."""
    response = test_admin_client.get(f"/e-tjanster/skolor/{grundskola.code}/{path}")
    assert response.status_code == 403
    assert reason in response.content.decode()


def test_a_teacher_of_another_school_is_not_found(principal_client, grundskola, other_school):
    from tests.fixtures.staff import make_teachers

    (membership,) = make_teachers(other_school, 1, prefix="z")
    url = f"/e-tjanster/skolor/{grundskola.code}/larare/{membership.user.username}/"
    assert principal_client.get(url).status_code == 404
    assert principal_client.post(url + "ta-bort/", {"confirm": "yes"}).status_code == 404
    membership.refresh_from_db()
    assert membership.removed_at is None


@pytest.mark.parametrize("path", POST_ONLY)
def test_changes_refuse_get(principal_client, grundskola, teacher, test_admin, path):
    assert principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/{path}").status_code == 405


def test_changes_need_a_csrf_token(client, principal, grundskola, teacher):
    from django.test import Client

    from tests.conftest import verify_session

    strict = verify_session(Client(enforce_csrf_checks=True), principal)
    response = strict.post(
        f"/e-tjanster/skolor/{grundskola.code}/larare/larare/ta-bort/", {"confirm": "yes"}
    )
    assert response.status_code == 403
    assert teacher.memberships.filter(removed_at__isnull=True).exists()


@pytest.mark.parametrize("path", GET_PAGES + ["provadministratorer/"] + POST_ONLY + CONFIRMED)
def test_odd_input_never_answers_500(principal_client, grundskola, teacher, test_admin, path):
    url = f"/e-tjanster/skolor/{grundskola.code}/{path}"
    odd = {
        "q": "x" * 500,
        "state": "ingen",
        "sort": "password",
        "page": "-1",
        "action": "'; DROP TABLE",
        "subjects": ["NOPE", ""],
        "email": "\x00@",
        "keep": ["abc", "-5", "999999"],
        "teacher": ["nobody"],
        "file": "not a file",
    }
    assert principal_client.get(url, odd).status_code < 500
    assert principal_client.post(url, odd).status_code < 500


TEST_ADMIN_ACTS = ["losenord", "kort", "las-upp", "inaktivera", "ateraktivera"]


@pytest.mark.parametrize("act", TEST_ADMIN_ACTS)
def test_each_test_admin_act_is_the_principals_alone_and_of_its_own_school(
    principal_client, test_admin_client, grundskola, gymnasium, test_admin, act
):
    path = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/{act}/"
    before = (test_admin.password, test_admin.is_active)
    anonymous = Client().post(path, {"confirm": "yes"})
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/e-tjanster/logga-in/?{urlencode({'next': path})}"
    # The test administrator itself: may see its school, not manage appointments.
    assert test_admin_client.post(path, {"confirm": "yes"}).status_code == 403
    # Another school of the same principal does not have this appointment.
    other = path.replace(grundskola.code, gymnasium.code)
    assert principal_client.post(other, {"confirm": "yes"}).status_code == 404
    test_admin.refresh_from_db()
    assert (test_admin.password, test_admin.is_active) == before
    appointment = TestAdministrator.objects.get(user=test_admin)
    assert appointment.deactivated_at is None


@pytest.mark.parametrize("act", ["las-upp", "ateraktivera"])
def test_the_unconfirmed_test_admin_acts_take_only_a_post(
    principal_client, grundskola, test_admin, act
):
    path = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/{act}/"
    response = principal_client.get(path)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_an_unknown_test_admin_act_is_not_found(principal_client, grundskola):
    path = f"/e-tjanster/skolor/{grundskola.code}/provadministratorer/provadmin/radera/"
    assert principal_client.post(path, {"confirm": "yes"}).status_code == 404
