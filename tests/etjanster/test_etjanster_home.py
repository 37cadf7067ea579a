import pytest

from tests.conftest import verify_session

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_the_etjanster_login(client):
    response = client.get("/e-tjanster/")
    assert response.status_code == 302
    assert response["Location"] == "/e-tjanster/logga-in/?next=/e-tjanster/"


def test_principal_past_only_the_password_is_sent_to_the_login(client, principal):
    client.force_login(principal)
    response = client.get("/e-tjanster/")
    assert response.status_code == 302
    assert response["Location"] == "/e-tjanster/logga-in/?next=/e-tjanster/"
    # The login knows the step they are at: the card.
    assert client.get(response["Location"])["Location"] == "/e-tjanster/logga-in/matris/"


def test_principal_sees_each_linked_school(principal_client, grundskola, gymnasium, other_school):
    html = principal_client.get("/e-tjanster/").content.decode()
    assert grundskola.code in html
    assert gymnasium.code in html
    assert other_school.code not in html


def test_test_admin_sees_its_own_school_only(client, test_admin, grundskola, gymnasium):
    html = verify_session(client, test_admin).get("/e-tjanster/").content.decode()
    assert grundskola.code in html
    assert gymnasium.code not in html


def test_teacher_cannot_use_etjanster(client, teacher):
    verify_session(client, teacher)
    response = client.get("/e-tjanster/")
    assert response.status_code == 302
    assert response["Location"] == "/e-tjanster/logga-in/?next=/e-tjanster/"
    login = client.get(response["Location"]).content.decode()
    assert "Du är inloggad i Bedömningsportalen som lärare." in login
    assert "E-tjänster är för rektorer och provadministratorer" in login
