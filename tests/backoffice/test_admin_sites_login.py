"""The /admin/ and /huvudman/ logins: the shared password throttle, one
message for every failure, and an audit event for every outcome."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import PasswordFailure
from accounts.throttle import username_key
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ONE_MESSAGE = (
    "Fel användarnamn, lösenord eller kod. "
    "Koden byts var 30:e sekund: använd den som appen visar nu."
)
SITES = ["/admin/", "/huvudman/"]


def code_at(device: TOTPDevice, offset: int = 0) -> str:
    """The code the app shows now (time_machine moves the clock `totp` reads)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{(value + offset) % 1_000_000:06d}"


def log_in(client, site: str, username: str, password: str, code: str, **meta):
    return client.post(
        f"{site}login/?next={site}",
        {"username": username, "password": password, "otp_token": code},
        **meta,
    )


@pytest.fixture
def person(request, national_admin, huvudman_staff):
    """The admin-site user of the site under test, with an authenticator app."""
    site = request.param
    user = national_admin if site == "/admin/" else huvudman_staff
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    return site, user, device


def password_of(user) -> str:
    return f"{user.username}-password-1234"


def error_notes(response) -> list[str]:
    html = response.content.decode()
    return [part.split("</p>")[0] for part in html.split('<p class="errornote">')[1:]]


@pytest.mark.parametrize("person", SITES, indirect=True)
def test_wrong_password_wrong_code_missing_code_and_unknown_user_get_one_message(client, person):
    site, user, device = person
    responses = []
    for username, password, code in [
        (user.username, "fel-losenord", code_at(device)),
        (user.username, password_of(user), code_at(device, 1)),
        (user.username, password_of(user), ""),
        ("finnsinte", "fel-losenord", "123456"),
    ]:
        # Each attempt from a clean throttle, so only the failure differs.
        PasswordFailure.objects.all().delete()
        responses.append(log_in(client, site, username, password, code))
    wrong_password, wrong_code, missing_code, unknown = responses
    answers = [error_notes(r) for r in (wrong_password, wrong_code, missing_code, unknown)]
    assert answers[0] == [ONE_MESSAGE]
    assert answers == [answers[0]] * 4
    assert all(r.status_code == 200 for r in (wrong_password, wrong_code, missing_code, unknown))
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("person", SITES, indirect=True)
def test_thirty_wrong_passwords_throttle_even_the_right_password_and_code(client, person):
    site, user, device = person
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(30):
            response = log_in(client, site, user.username, "fel-losenord", "000000")
        assert "vänta till kl." in response.content.decode()
        right = log_in(client, site, user.username, password_of(user), code_at(device))
        assert right.status_code == 200
        # SECURITY: during the delay nothing is checked, so nothing is called wrong.
        assert error_notes(right)[0].startswith("För många försök, vänta till kl. ")
        assert ONE_MESSAGE not in right.content.decode()
        assert "_auth_user_id" not in client.session
        # Once the delay has passed, the right password and a fresh code get in.
        traveller.shift(datetime.timedelta(minutes=16))
        response = log_in(client, site, user.username, password_of(user), code_at(device))
        assert response.status_code == 302
        assert client.get(site).status_code == 200
    assert not PasswordFailure.objects.filter(username=username_key(user.username)).exists()


@pytest.mark.parametrize("person", SITES, indirect=True)
def test_wrong_codes_are_throttled_like_wrong_passwords(client, person):
    # SECURITY: a wrong code counts under the username too, so the throttle's
    # answers do not tell that the password was right.
    site, user, device = person
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        for _ in range(5):
            by_code = log_in(client, site, user.username, password_of(user), "000000")
        PasswordFailure.objects.all().delete()
        for _ in range(5):
            by_password = log_in(client, site, user.username, "fel-losenord", "000000")
    assert error_notes(by_code) == error_notes(by_password)
    assert "vänta till kl." in error_notes(by_code)[0]


@pytest.mark.parametrize("person", SITES, indirect=True)
def test_a_successful_login_is_audited_with_both_factors_and_the_huvudman(client, person):
    site, user, device = person
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        response = log_in(
            client,
            site,
            user.username,
            password_of(user),
            code_at(device),
            REMOTE_ADDR="192.0.2.44",
        )
    assert response.status_code == 302
    events = list(
        AuditEvent.objects.filter(action__in=["login_succeeded", "password_accepted"]).order_by(
            "pk"
        )
    )
    # One "login succeeded" per completed login: the password step alone is not one.
    assert [(e.action, e.details["factor"]) for e in events] == [
        ("password_accepted", "password"),
        ("login_succeeded", "totp"),
    ]
    door = "admin" if site == "/admin/" else "huvudman"
    for event in events:
        assert event.actor_id == user.pk
        assert event.target == user.username
        assert event.ip_address == "192.0.2.44"
        assert event.details["door"] == door
        assert event.huvudman_id == user.huvudman_id
    assert not AuditEvent.objects.filter(action="login_failed").exists()


@pytest.mark.parametrize("person", SITES, indirect=True)
def test_failed_logins_are_audited_with_the_factor_and_the_huvudman(client, person):
    site, user, device = person
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        log_in(
            client,
            site,
            user.username,
            "fel-losenord",
            code_at(device),
            REMOTE_ADDR="192.0.2.45",
        )
        log_in(
            client,
            site,
            user.username,
            password_of(user),
            code_at(device, 1),
            REMOTE_ADDR="192.0.2.45",
        )
    failed = list(AuditEvent.objects.filter(action="login_failed").order_by("pk"))
    assert [e.details["factor"] for e in failed] == ["password", "totp"]
    for event in failed:
        assert event.target == user.username
        assert event.ip_address == "192.0.2.45"
        assert event.huvudman_id == user.huvudman_id
    # The wrong code was tried by the account holder (the password was right).
    assert failed[1].actor_id == user.pk


def test_huvudman_staff_of_a_huvudman_are_recorded_under_it(client, huvudman_staff):
    log_in(client, "/huvudman/", huvudman_staff.username, "fel-losenord", "000000")
    event = AuditEvent.objects.get(action="login_failed")
    assert event.huvudman == huvudman_staff.huvudman
    assert event.huvudman is not None


@pytest.mark.parametrize("site", SITES)
def test_an_unknown_username_is_audited_only_as_a_marked_hash(client, db, site):
    typed = "Hemligt-Losenord-123"
    log_in(client, site, typed, "vad-som-helst", "000000")
    event = AuditEvent.objects.get(action="login_failed")
    assert typed.lower() not in event.target.lower()
    assert event.target.startswith("okänt användarnamn (hash ")
    assert typed.lower() not in str(event.details).lower()
    assert typed.lower() not in str(list(PasswordFailure.objects.values_list("username")))


def test_the_wrong_role_is_refused_at_the_login_with_the_same_message(client, huvudman_staff):
    TOTPDevice.objects.create(user=huvudman_staff, name="app", confirmed=True)
    response = log_in(
        client, "/admin/", huvudman_staff.username, password_of(huvudman_staff), "000000"
    )
    assert error_notes(response) == [ONE_MESSAGE]
    event = AuditEvent.objects.get(action="login_failed")
    assert event.details == {"factor": "password", "door": "admin", "refused": "wrong_role"}
    assert "_auth_user_id" not in client.session
