"""The absolute session timeout (ASVS 7.3.2): SESSION_ABSOLUTE_HOURS after
the login a session ends, however busy it has been."""

import datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.sessions import LOGIN_AT_SESSION_KEY
from audit.models import AuditEvent
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db


def test_the_default_is_ten_hours():
    assert django_settings.SESSION_ABSOLUTE_HOURS == 10


def stay_busy(client, url: str, traveller, *, minutes: int) -> None:
    """One request every 20 minutes, so the 30-minute idle timeout never strikes."""
    for _ in range(minutes // 20):
        traveller.shift(datetime.timedelta(minutes=20))
        assert client.get(url).status_code == 200


def test_a_busy_e_tjanster_session_ends_ten_hours_after_login(client, principal):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        verify_session(client, principal)
        stay_busy(client, "/e-tjanster/", traveller, minutes=9 * 60 + 40)
        traveller.shift(datetime.timedelta(minutes=20))
        response = client.get("/e-tjanster/")
    assert response.status_code == 302
    assert response["Location"] == "/e-tjanster/logga-in/?next=/e-tjanster/"
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="logout")
    assert event.details == {"reason": "absolute_timeout"}
    assert event.actor_id == principal.pk


def test_a_teacher_is_sent_to_the_portal_login(client, teacher, settings):
    settings.SESSION_ABSOLUTE_HOURS = 1
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(teacher)
        stay_busy(client, "/bedomningsportalen/konto/", traveller, minutes=40)
        traveller.shift(datetime.timedelta(minutes=20))
        response = client.get("/bedomningsportalen/konto/")
        page = client.get(response["Location"]).content.decode()
    assert response["Location"].startswith("/bedomningsportalen/logga-in/")
    assert "Din inloggning har gått ut. Logga in igen." in page


@pytest.mark.parametrize(
    ("who", "site"), [("national_admin", "/admin/"), ("huvudman_staff", "/huvudman/")]
)
def test_admin_site_users_are_sent_to_their_sites_login(client, request, settings, who, site):
    settings.SESSION_ABSOLUTE_HOURS = 1
    user = request.getfixturevalue(who)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        verify_session(client, user)
        stay_busy(client, site, traveller, minutes=40)
        traveller.shift(datetime.timedelta(minutes=20))
        response = client.get(site)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{site}login/")
    assert "_auth_user_id" not in client.session


def test_a_post_from_an_ended_session_is_not_carried_out(client, teacher, settings):
    settings.SESSION_ABSOLUTE_HOURS = 1
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(teacher)
        traveller.shift(datetime.timedelta(minutes=20))
        client.get("/bedomningsportalen/konto/")
        traveller.shift(datetime.timedelta(minutes=20))
        client.get("/bedomningsportalen/konto/")
        traveller.shift(datetime.timedelta(minutes=20))
        response = client.post(
            "/bedomningsportalen/konto/",
            {
                "old_password": "larare-password-1234",
                "new_password1": "Ett-nytt-langt-losen-42",
                "new_password2": "Ett-nytt-langt-losen-42",
            },
        )
    assert response.status_code == 302
    # Back to the form after the login; the passwords typed are not kept.
    assert (
        response["Location"]
        == "/bedomningsportalen/logga-in/?next=%2Fbedomningsportalen%2Fkonto%2F"
    )
    assert "accounts_resume" not in client.session
    teacher.refresh_from_db()
    assert teacher.check_password("larare-password-1234")


def test_every_login_restarts_the_clock(client, teacher):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(teacher)
        first = client.session[LOGIN_AT_SESSION_KEY]
        traveller.shift(datetime.timedelta(hours=11))
        client.post(
            "/bedomningsportalen/logga-in/",
            {"username": "larare", "password": "larare-password-1234"},
        )
        assert client.session[LOGIN_AT_SESSION_KEY] == first + 11 * 3600
        assert client.get("/bedomningsportalen/konto/").status_code == 200


def test_the_admin_login_starts_the_clock(client, national_admin):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=national_admin, name="app", confirmed=True)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    client.post(
        "/admin/login/",
        {
            "username": "nationell",
            "password": "nationell-password-1234",
            "otp_token": f"{code:06d}",
        },
    )
    assert isinstance(client.session[LOGIN_AT_SESSION_KEY], int)


# --- The idle timeout (ASVS 7.3.1) without a database write per request ----------


def session_writes(client, url: str) -> list[str]:
    """The SQL statements of one GET that write the session table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [
        query["sql"]
        for query in queries.captured_queries
        if "accounts_session" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]


def test_a_logged_in_get_writes_the_session_at_most_once_a_minute(client, teacher):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(teacher)
        assert session_writes(client, "/bedomningsportalen/konto/") == []
        traveller.shift(datetime.timedelta(seconds=59))
        assert session_writes(client, "/bedomningsportalen/konto/") == []
        traveller.shift(datetime.timedelta(seconds=2))
        assert len(session_writes(client, "/bedomningsportalen/konto/")) == 1
        assert session_writes(client, "/bedomningsportalen/konto/") == []


def test_a_session_used_every_few_minutes_outlives_the_idle_timeout(client, teacher):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(teacher)
        for _ in range(12):  # an hour, one request every five minutes
            traveller.shift(datetime.timedelta(minutes=5))
            response = client.get("/bedomningsportalen/konto/")
            assert response.status_code == 200
            assert "Inloggad som Larare Testsson" in response.content.decode()
            assert client.session["_auth_user_id"] == str(teacher.pk)


def test_an_idle_session_ends_after_the_idle_timeout(client, teacher):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(teacher)
        traveller.shift(datetime.timedelta(minutes=10))
        assert client.get("/bedomningsportalen/konto/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=30, seconds=1))
        response = client.get("/bedomningsportalen/konto/")
    assert response.status_code == 302
    assert response["Location"].startswith("/bedomningsportalen/logga-in/")


def test_the_idle_expiry_is_known_to_the_page(client, teacher, rf):
    from accounts.sessions import session_idle_expires_at

    with time_machine.travel(timezone.now(), tick=False):
        client.force_login(teacher)
        request = rf.get("/")
        request.session = client.session
        expected = timezone.now().replace(microsecond=0) + datetime.timedelta(minutes=30)
        assert session_idle_expires_at(request=request) == expected
