"""The national admin site at /admin/: password and TOTP, national admins only."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import verify_session
from tests.fixtures.logins import current_code

pytestmark = pytest.mark.django_db


def post_login(client, user, code: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {
            "username": user.username,
            "password": f"{user.username}-password-1234",
            "otp_token": code,
        },
    )


def test_anonymous_visitor_is_sent_to_the_admin_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_superuser_with_password_only_cannot_use_admin(client, national_admin):
    client.force_login(national_admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_superuser_without_a_totp_device_cannot_log_in(client, national_admin):
    response = post_login(client, national_admin, "123456")
    assert response.status_code == 200
    # The same answer as for a wrong password: no hint that the password was right.
    assert "Fel användarnamn, lösenord eller kod." in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_superuser_with_wrong_totp_code_cannot_log_in(client, national_admin):
    device = TOTPDevice.objects.create(user=national_admin, name="app", confirmed=True)
    wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"
    response = post_login(client, national_admin, wrong)
    assert response.status_code == 200
    assert "Fel användarnamn, lösenord eller kod." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"


def test_superuser_with_password_and_totp_reaches_admin(client, national_admin):
    device = TOTPDevice.objects.create(user=national_admin, name="app", confirmed=True)
    response = post_login(client, national_admin, current_code(device))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(national_admin.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "<title>Nationell administration | Nationell administration</title>" in (
        index.content.decode()
    )


def test_huvudman_staff_cannot_use_the_national_admin_site(client, huvudman_staff):
    verify_session(client, huvudman_staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_principal_cannot_use_the_national_admin_site(client, principal):
    verify_session(client, principal)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
