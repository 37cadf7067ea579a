"""The per-request reads (session, user, OTP device) with one plain statement
each keep every rule of Django's and django-otp's own reads."""

import datetime

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.db.models import F
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.backends import AccountBackend
from accounts.models import MatrixCardDevice, Session, User
from accounts.session_store import SessionStore
from core.rows import row_by_pk
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db

ETJANSTER = "/e-tjanster/"


def user_of(client: Client):
    return client.get("/").wsgi_request.user


def sent_back_to_the_card_step(client: Client, response) -> bool:
    """An E-tjänster page refused a session past its password but without a
    card: to the login, which asks for the card (the password step stands)."""
    user = response.wsgi_request.user
    return (
        response.status_code == 302
        and response["Location"] == "/e-tjanster/logga-in/?next=/e-tjanster/"
        and user.is_authenticated
        and not user.is_verified()
        and client.get(response["Location"])["Location"] == "/e-tjanster/logga-in/matris/"
    )


def test_a_logged_in_request_reads_its_session_and_user_in_one_statement(client, teacher):
    client.force_login(teacher)
    with CaptureQueriesContext(connection) as queries:
        assert user_of(client) == teacher
    sql = [query["sql"] for query in queries]
    assert len([s for s in sql if "accounts_user" in s]) == 1
    assert len([s for s in sql if "accounts_session" in s]) == 1
    [statement] = [s for s in sql if "accounts_session" in s]
    assert "accounts_user" in statement


def test_the_user_read_with_the_session_is_the_same_as_the_orms(client, teacher):
    client.force_login(teacher)
    user = user_of(client)
    fresh = User.objects.get(pk=teacher.pk)
    for field in User._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(fresh, field.attname), field.name
    assert user._state.db == "default" and not user._state.adding


def test_a_session_row_naming_another_user_logs_in_only_the_user_of_its_data(
    client, teacher, principal
):
    # SECURITY: the user_id column only saves a query; the signed data decides.
    client.force_login(teacher)
    Session.objects.filter(pk=client.session.session_key).update(user_id=principal.pk)
    assert user_of(client) == teacher


def test_a_session_row_without_its_user_id_still_finds_the_user(client, teacher):
    client.force_login(teacher)
    Session.objects.filter(pk=client.session.session_key).update(user_id=None)
    assert user_of(client) == teacher


def test_a_raised_session_epoch_ends_the_session_read_with_its_user(client, teacher):
    client.force_login(teacher)
    User.objects.filter(pk=teacher.pk).update(session_epoch=F("session_epoch") + 1)
    assert not user_of(client).is_authenticated
    # Django's get_user flushed it: the row is gone.
    assert not Session.objects.filter(user_id=teacher.pk).exists()


def test_a_changed_password_hash_ends_the_session_read_with_its_user(client, teacher):
    client.force_login(teacher)
    User.objects.filter(pk=teacher.pk).update(password="argon2$changed")
    assert not user_of(client).is_authenticated


def test_a_session_hashed_with_a_fallback_secret_key_is_kept_under_a_new_key(client, teacher):
    with override_settings(SECRET_KEY="old-" + "k" * 50):
        client.force_login(teacher)
        old_key = client.session.session_key
    with override_settings(SECRET_KEY="new-" + "k" * 50, SECRET_KEY_FALLBACKS=["old-" + "k" * 50]):
        response = client.get("/")
        assert response.wsgi_request.user == teacher
        new_key = response.wsgi_request.session.session_key
        assert new_key != old_key
        assert Session.objects.get(pk=new_key).user_id == teacher.pk
    with override_settings(SECRET_KEY="newer-" + "k" * 50):
        assert not user_of(client).is_authenticated


def test_an_expired_session_row_is_not_read(client, teacher):
    client.force_login(teacher)
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert not user_of(client).is_authenticated


def test_an_unknown_session_key_is_anonymous_and_gets_a_new_key_when_saved(db):
    store = SessionStore(session_key="x" * 32)
    assert store.load() == {}
    assert store.session_key is None
    store["a"] = 1
    store.save()
    assert store.session_key is not None
    assert SessionStore(session_key=store.session_key).load() == {"a": 1}


def test_a_deactivated_users_session_is_anonymous(client, teacher):
    client.force_login(teacher)
    User.objects.filter(pk=teacher.pk).update(is_active=False)
    assert not user_of(client).is_authenticated


def test_a_session_of_a_deleted_user_is_anonymous(client, teacher):
    # (A malformed id cannot get into the signed session; Django itself
    # refuses one before the backend is asked.)
    client.force_login(teacher)
    session = client.session
    session[SESSION_KEY] = "999999"
    session.save()
    assert not user_of(client).is_authenticated


def test_the_backend_reads_the_same_user_as_the_orm(teacher):
    user = AccountBackend().get_user(str(teacher.pk))
    assert user == teacher
    assert user.password == teacher.password
    assert user.role == teacher.role
    assert user._state.db == "default" and not user._state.adding
    assert AccountBackend().get_user(0) is None


def test_logins_store_the_projects_backend(client, teacher):
    client.post(
        "/bedomningsportalen/logga-in/", {"username": "larare", "password": "larare-password-1234"}
    )
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.AccountBackend"


def test_a_verified_principal_is_verified_by_the_card_in_the_session(principal_client):
    assert principal_client.get(ETJANSTER).status_code == 200
    device = principal_client.get(ETJANSTER).wsgi_request.user.otp_device
    assert isinstance(device, MatrixCardDevice)


def test_the_cards_cell_macs_are_left_unread_but_load_when_asked(principal_client, principal):
    device = principal_client.get(ETJANSTER).wsgi_request.user.otp_device
    assert "cell_macs" in device.get_deferred_fields()
    assert device.cell_macs == MatrixCardDevice.objects.get(pk=device.pk).cell_macs


def test_another_users_card_in_the_session_verifies_nobody(principal_client, test_admin, principal):
    other = verify_session(Client(), test_admin)
    session = principal_client.session
    session[DEVICE_ID_SESSION_KEY] = other.session[DEVICE_ID_SESSION_KEY]
    session.save()
    response = principal_client.get(ETJANSTER)
    assert response.status_code == 302
    assert response["Location"].startswith("/e-tjanster/logga-in/")


def test_a_replaced_card_in_the_session_verifies_nobody(principal_client, principal):
    MatrixCardDevice.objects.filter(user=principal).update(confirmed=False)
    response = principal_client.get(ETJANSTER)
    assert sent_back_to_the_card_step(principal_client, response)


@pytest.mark.parametrize(
    "persistent_id",
    [
        "accounts.matrixcarddevice/abc",
        "accounts.matrixcarddevice/999999",
        "nonsense",
        "no.such_model/1",
        # A model that is not an OTP device at all.
        "accounts.user/1",
    ],
)
def test_a_malformed_device_id_in_the_session_verifies_nobody_and_breaks_nothing(
    principal_client, persistent_id
):
    session = principal_client.session
    session[DEVICE_ID_SESSION_KEY] = persistent_id
    session.save()
    response = principal_client.get(ETJANSTER)
    assert sent_back_to_the_card_step(principal_client, response)


def test_row_by_pk_finds_nothing_for_a_key_of_the_wrong_type(teacher):
    assert row_by_pk(User, "not-a-number") is None
    assert row_by_pk(User, teacher.pk) == teacher


# --- The matrix card, read with the session -----------------------------------------------


def card_statements(client: Client) -> tuple[list[str], object]:
    """The statements of one E-tjänster request that read the session or a
    card by itself (the page's own queries may join cards in for other ends)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ETJANSTER)
    sql = [query["sql"] for query in queries]
    return [
        s
        for s in sql
        if 'FROM "accounts_session"' in s
        or s.startswith('SELECT "accounts_matrixcarddevice"')
        or ('FROM "accounts_matrixcarddevice" WHERE' in s and "JOIN" not in s)
    ], response


def test_a_session_row_carries_the_id_of_the_card_its_data_names(
    principal_client, principal, national_admin
):
    row = Session.objects.get(pk=principal_client.session.session_key)
    assert row.card_device_id == MatrixCardDevice.objects.get(user=principal, confirmed=True).pk
    # An admin's TOTP device is no card: the column stays empty.
    admin = verify_session(Client(), national_admin)
    assert Session.objects.get(pk=admin.session.session_key).card_device_id is None


def test_a_verified_principal_reads_session_user_and_card_in_one_statement(principal_client):
    statements, response = card_statements(principal_client)
    assert response.status_code == 200
    [statement] = statements
    assert "accounts_user" in statement and 'JOIN "accounts_matrixcarddevice"' in statement
    # The 80 cell MACs are not among the columns read.
    assert "cell_macs" not in statement


def test_the_card_read_with_the_session_is_the_same_as_the_orms(principal_client, principal):
    device = principal_client.get(ETJANSTER).wsgi_request.user.otp_device
    fresh = MatrixCardDevice.objects.get(pk=device.pk)
    for field in MatrixCardDevice._meta.concrete_fields:
        if field.attname != "cell_macs":
            assert getattr(device, field.attname) == getattr(fresh, field.attname), field.name
    assert device._state.db == "default" and not device._state.adding


def test_a_session_row_naming_another_card_verifies_only_by_the_card_of_its_data(
    principal_client, principal, test_admin
):
    # SECURITY: the card column only saves a query; the session's data decides.
    other_card = MatrixCardDevice.objects.get(
        pk=verify_session(Client(), test_admin).session[DEVICE_ID_SESSION_KEY].rsplit("/")[1]
    )
    Session.objects.filter(pk=principal_client.session.session_key).update(
        card_device_id=other_card.pk
    )
    statements, response = card_statements(principal_client)
    assert response.status_code == 200
    device = response.wsgi_request.user.otp_device
    assert device.user_id == principal.pk and device.pk != other_card.pk
    # The joined card was not the session's: its own was read by itself.
    assert len(statements) == 2


def test_a_session_row_naming_another_card_of_the_same_user_uses_the_card_of_its_data(
    principal_client, principal
):
    # The user's replaced card (one confirmed card per user is a database
    # constraint): the column naming it must not cost the session its own.
    own = MatrixCardDevice.objects.get(user=principal, confirmed=True)
    replaced = MatrixCardDevice.objects.create(
        user=principal,
        name="replaced",
        confirmed=False,
        state="replaced",
        serial="ZZZZ-9999",
        cell_macs={},
        issued_on=own.issued_on,
    )
    Session.objects.filter(pk=principal_client.session.session_key).update(
        card_device_id=replaced.pk
    )
    statements, response = card_statements(principal_client)
    assert response.status_code == 200
    assert response.wsgi_request.user.otp_device.pk == own.pk
    assert len(statements) == 2


def test_a_session_row_without_its_card_id_still_finds_the_card(principal_client, principal):
    # A session saved before the column existed, until its next save.
    Session.objects.filter(pk=principal_client.session.session_key).update(card_device_id=None)
    statements, response = card_statements(principal_client)
    assert response.status_code == 200
    assert response.wsgi_request.user.otp_device.user_id == principal.pk
    assert len(statements) == 2


def test_a_deleted_card_in_the_session_verifies_nobody(principal_client, principal):
    MatrixCardDevice.objects.filter(user=principal).delete()
    response = principal_client.get(ETJANSTER)
    assert response.status_code == 302
    assert response["Location"].startswith("/e-tjanster/logga-in/")
