"""Onboarding from the top: a national admin creates national admins and
huvudman staff in /admin/ (or `create_staff`), the new account's one-time
password opens only the enrolment page, and the enrolment (QR code, a code
from the app, one's own password) opens the site in a new session."""

import datetime
import json
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from accounts.services.staff import ONBOARDING_LIFETIME, staff_create
from audit.context import AuditContext
from audit.models import AuditEvent
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db

# The 400 page of core.middleware.BadInputMiddleware (a NUL byte never reaches a form).
BAD_REQUEST = "Begäran kunde inte hanteras"

ADD = "/admin/accounts/user/add/"
NEW_PASSWORD = "mitt-eget-langa-losenord-42"


@pytest.fixture
def admin_client(national_admin) -> Client:
    return verify_session(Client(), national_admin)


def shown(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]+)<', page)
    assert match, f"#{element_id} not on the page"
    return match.group(1).strip()


def create(admin_client, **data):
    form = {"first_name": "Hugo", "last_name": "Huvudmansson", "email": "hugo@kommun.se"}
    return admin_client.post(ADD, {**form, **data})


def current_code(secret: str, offset: int = 0) -> str:
    """What an authenticator app shows for the base32 key on the page."""
    import base64

    key = base64.b32decode(secret.replace(" ", ""))
    totp = TOTP(key, step=30, t0=0, digits=6, drift=0)
    totp.time = timezone.now().timestamp() + offset * 30
    return f"{totp.token():06d}"


def test_the_add_page_offers_username_role_and_huvudman(admin_client):
    page = admin_client.get(ADD).content.decode()
    for name in ("username", "role", "huvudman", "first_name", "last_name", "email"):
        assert f'name="{name}"' in page
    assert 'name="password1"' not in page


def test_a_national_admin_creates_huvudman_staff_with_a_one_time_password(admin_client, huvudman):
    response = create(admin_client, role=Role.HUVUDMAN_STAFF, huvudman=huvudman.pk)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    username, password = shown(page, "issued-username"), shown(page, "issued-password")
    user = User.objects.get(username=username)
    assert (user.role, user.huvudman, user.is_staff, user.is_superuser) == (
        Role.HUVUDMAN_STAFF,
        huvudman,
        True,
        False,
    )
    assert user.check_password(password)
    assert password not in user.password
    assert user.onboarding_until - timezone.now() > ONBOARDING_LIFETIME - datetime.timedelta(
        minutes=1
    )
    assert not TOTPDevice.objects.filter(user=user).exists()
    created = AuditEvent.objects.get(action="account_created", target=username)
    assert created.huvudman == huvudman
    assert AuditEvent.objects.get(action="password_issued", target=username).details["one_time"]


def test_a_national_admin_creates_another_national_admin_with_a_chosen_username(admin_client):
    response = create(admin_client, role=Role.NATIONAL_ADMIN, username="ada.berg")
    assert shown(response.content.decode(), "issued-username") == "ada.berg"
    user = User.objects.get(username="ada.berg")
    assert (user.role, user.huvudman, user.is_superuser) == (Role.NATIONAL_ADMIN, None, True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": Role.HUVUDMAN_STAFF}, "måste höra till en huvudman"),
        ({"role": Role.NATIONAL_ADMIN, "huvudman": "HUVUDMAN"}, "hör inte till någon huvudman"),
        ({"role": Role.PRINCIPAL}, "Välj ett giltigt alternativ"),
        ({"role": "superuser"}, "Välj ett giltigt alternativ"),
        ({"role": Role.HUVUDMAN_STAFF, "huvudman": "999999"}, "Välj ett giltigt alternativ"),
        ({"role": Role.HUVUDMAN_STAFF, "huvudman": "1;DROP"}, "Välj ett giltigt alternativ"),
        ({"role": Role.NATIONAL_ADMIN, "first_name": "Ada\x00"}, BAD_REQUEST),
        ({"role": Role.NATIONAL_ADMIN, "first_name": "Ada\u202e"}, "styrtecken"),
        ({"role": Role.NATIONAL_ADMIN, "last_name": "B" * 151}, "som mest 150 tecken"),
        ({"role": Role.NATIONAL_ADMIN, "email": "inte-en-adress"}, "giltig e-postadress"),
        ({"role": Role.NATIONAL_ADMIN, "username": "olle"}, "0, 1, i, l eller o"),
        ({"role": Role.NATIONAL_ADMIN, "username": "a197001019876"}, "sex siffror i rad"),
        ({"role": Role.NATIONAL_ADMIN, "username": "hugge.berg"}, "upptaget"),
        ({"role": Role.NATIONAL_ADMIN, "username": "Hugge.Berg"}, "upptaget"),
        ({"role": Role.NATIONAL_ADMIN, "username": "a" * 31}, "som mest 30 tecken"),
        ({"role": Role.NATIONAL_ADMIN, "username": "ab\x00c"}, BAD_REQUEST),
    ],
)
def test_bad_input_is_explained_and_nothing_is_created(
    admin_client, huvudman, national_admin, data, message
):
    if data.get("huvudman") == "HUVUDMAN":
        data = {**data, "huvudman": huvudman.pk}
    staff_create(
        context=AuditContext.system(),
        role=Role.NATIONAL_ADMIN,
        huvudman=None,
        first_name="Hugo",
        last_name="Berg",
        email="hugge.berg@skolverket.example",
        username="hugge.berg",
    )
    before = User.objects.count()
    created_before = AuditEvent.objects.filter(action="account_created").count()
    response = create(admin_client, **data)
    assert response.status_code == (400 if message == BAD_REQUEST else 200)
    assert message in response.content.decode()
    assert User.objects.count() == before
    assert AuditEvent.objects.filter(action="account_created").count() == created_before


def test_only_a_national_admin_opens_the_add_page(client, admin_client, huvudman_staff, principal):
    page = admin_client.get(ADD)
    assert page.status_code == 200
    assert "<title>Nytt administratörskonto | Nationell administration</title>" in (
        page.content.decode()
    )
    login = f"/admin/login/?next={ADD}"
    assert client.get(ADD)["Location"] == login
    assert verify_session(Client(), huvudman_staff).get(ADD)["Location"] == login
    assert verify_session(Client(), principal).get(ADD)["Location"] == login


# --- The first login ------------------------------------------------------------------


@pytest.fixture
def new_staff(huvudman, national_admin):
    return staff_create(
        context=AuditContext(actor=national_admin),
        role=Role.HUVUDMAN_STAFF,
        huvudman=huvudman,
        first_name="Hugo",
        last_name="Huvudmansson",
        email="hugo@kommun.se",
    )


def log_in(client, site, username, password, code=""):
    return client.post(
        f"{site}login/?next={site}",
        {"username": username, "password": password, "otp_token": code},
    )


def test_the_one_time_password_opens_the_enrolment_page_and_nothing_else(client, new_staff):
    response = log_in(client, "/huvudman/", new_staff.user.username, new_staff.password)
    assert response.status_code == 302
    assert response["Location"] == "/huvudman/aktivera/"
    for url in ("/huvudman/", "/huvudman/schools/principal/", "/admin/", "/e-tjanster/"):
        assert client.get(url).status_code == 302, url
    assert client.get("/huvudman/login/")["Location"] == "/huvudman/aktivera/"
    page = client.get("/huvudman/aktivera/").content.decode()
    assert 'src="data:image/svg+xml;base64,' in page


def test_enrolment_with_the_right_code_and_an_own_password_opens_the_site(client, new_staff):
    log_in(client, "/huvudman/", new_staff.user.username, new_staff.password)
    page = client.get("/huvudman/aktivera/").content.decode()
    secret = shown(page, "totp-secret")
    half_logged_in_key = client.session.session_key
    response = client.post(
        "/huvudman/aktivera/",
        {
            "otp_token": current_code(secret),
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/huvudman/"
    assert client.get("/huvudman/").status_code == 200
    # SECURITY (ASVS 7.2.4): a new session once both factors are in place.
    assert client.session.session_key != half_logged_in_key
    user = User.objects.get(pk=new_staff.user.pk)
    assert user.onboarding_until is None
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(new_staff.password)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert AuditEvent.objects.filter(action="totp_enrolled", target=user.username).exists()
    # The key is never shown again.
    assert client.get("/huvudman/aktivera/").status_code == 302
    assert secret.replace(" ", "") not in client.get("/huvudman/").content.decode()


def test_a_wrong_code_enrols_nothing_and_leaves_no_device(client, new_staff):
    log_in(client, "/huvudman/", new_staff.user.username, new_staff.password)
    secret = shown(client.get("/huvudman/aktivera/").content.decode(), "totp-secret")
    for code in (current_code(secret, offset=5), "12345", "abcdef", "\x00\x00\x00\x00\x00\x00"):
        response = client.post(
            "/huvudman/aktivera/",
            {"otp_token": code, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        if "\x00" in code:
            # A NUL byte never reaches the form: BadInputMiddleware answers 400.
            assert response.status_code == 400
            assert BAD_REQUEST in response.content.decode()
        else:
            assert response.status_code == 200
            assert "Koden stämde inte" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=new_staff.user).exists()
    assert User.objects.get(pk=new_staff.user.pk).onboarding_until is not None
    # The same key stays on the page until it is confirmed.
    assert shown(client.get("/huvudman/aktivera/").content.decode(), "totp-secret") == secret


def test_the_one_time_password_cannot_become_the_long_term_password(client, new_staff):
    log_in(client, "/huvudman/", new_staff.user.username, new_staff.password)
    secret = shown(client.get("/huvudman/aktivera/").content.decode(), "totp-secret")
    response = client.post(
        "/huvudman/aktivera/",
        {
            "otp_token": current_code(secret),
            "new_password1": new_staff.password,
            "new_password2": new_staff.password,
        },
    )
    assert response.status_code == 200
    assert "inte engångslösenordet" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=new_staff.user).exists()


def test_the_code_used_at_enrolment_cannot_be_replayed_at_the_next_login(new_staff):
    first = Client()
    log_in(first, "/huvudman/", new_staff.user.username, new_staff.password)
    secret = shown(first.get("/huvudman/aktivera/").content.decode(), "totp-secret")
    with time_machine.travel(timezone.now(), tick=False):
        code = current_code(secret)
        first.post(
            "/huvudman/aktivera/",
            {"otp_token": code, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        replay = log_in(Client(), "/huvudman/", new_staff.user.username, NEW_PASSWORD, code)
    assert replay.status_code == 200
    assert "Fel användarnamn, lösenord eller kod" in replay.content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=60), tick=False):
        later = log_in(
            Client(), "/huvudman/", new_staff.user.username, NEW_PASSWORD, current_code(secret)
        )
    assert later.status_code == 302


def test_an_expired_one_time_password_is_told_so(client, new_staff):
    later = timezone.now() + ONBOARDING_LIFETIME + datetime.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        response = log_in(client, "/huvudman/", new_staff.user.username, new_staff.password)
    assert response.status_code == 200
    assert "Engångslösenordet har gått ut" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_wrong_one_time_password_is_the_one_message(client, new_staff):
    response = log_in(client, "/huvudman/", new_staff.user.username, "fel")
    assert "Fel användarnamn, lösenord eller kod" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_cannot_enrol_at_the_national_admin_site(client, new_staff):
    response = log_in(client, "/admin/", new_staff.user.username, new_staff.password)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_new_national_admin_enrols_at_admin(client, national_admin):
    issued = staff_create(
        context=AuditContext(actor=national_admin),
        role=Role.NATIONAL_ADMIN,
        huvudman=None,
        first_name="Ada",
        last_name="Berg",
        email="ada@skolverket.example",
    )
    assert log_in(client, "/admin/", issued.user.username, issued.password)["Location"] == (
        "/admin/aktivera/"
    )
    assert client.get("/huvudman/aktivera/").status_code == 302
    secret = shown(client.get("/admin/aktivera/").content.decode(), "totp-secret")
    client.post(
        "/admin/aktivera/",
        {
            "otp_token": current_code(secret),
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert client.get("/admin/").status_code == 200


def test_an_account_deactivated_before_enrolment_is_told_so(client, new_staff):
    User.objects.filter(pk=new_staff.user.pk).update(is_active=False)
    response = log_in(client, "/huvudman/", new_staff.user.username, new_staff.password)
    assert "Ditt konto är inaktiverat" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_enrolling_session_ends_when_the_account_is_deactivated(client, new_staff):
    log_in(client, "/huvudman/", new_staff.user.username, new_staff.password)
    from accounts.services.staff import account_admin_update

    user = User.objects.get(pk=new_staff.user.pk)
    account_admin_update(
        context=AuditContext.system(),
        user=user,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        is_active=False,
    )
    assert client.get("/huvudman/aktivera/").status_code == 302
    assert "_auth_user_id" not in client.session


# --- The same for scripts -----------------------------------------------------------------


def test_create_staff_prints_the_one_time_password_once_as_json(huvudman):
    out = StringIO()
    call_command(
        "create_staff",
        "--role=huvudman_staff",
        "--huvudman=2120000142",
        "--first-name=Hugo",
        "--last-name=Huvudmansson",
        "--email=hugo@kommun.se",
        "--json",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    user = User.objects.get(username=result["username"])
    assert user.huvudman == huvudman
    assert user.check_password(result["password"])
    assert result["login_url"] == "/huvudman/"
    assert result["one_time_password_valid_until"] == user.onboarding_until.isoformat()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role=huvudman_staff"], "huvudman"),
        (["--role=national_admin", "--huvudman=212000-0142"], "huvudman"),
        (["--role=huvudman_staff", "--huvudman=556036-0793"], "No huvudman"),
        (["--role=national_admin", "--username=Olle"], "0, 1, i, l"),
        (["--role=national_admin", "--first-name=A\x1b[31m"], "styrtecken"),
    ],
)
def test_create_staff_refuses_bad_input_and_saves_nothing(huvudman, arguments, message):
    before = User.objects.count()
    base = {"--first-name": "Hugo", "--last-name": "H", "--email": "hugo@kommun.se"}
    given = {argument.split("=")[0] for argument in arguments}
    extra = [f"{key}={value}" for key, value in base.items() if key not in given]
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", *arguments, *extra)
    assert User.objects.count() == before


def test_the_enrolment_page_is_closed_to_anyone_not_enrolling(client, national_admin, principal):
    assert client.get("/admin/aktivera/")["Location"] == "/admin/login/"
    assert client.post("/huvudman/aktivera/", {"otp_token": "123456"}).status_code == 302
    verified = verify_session(Client(), national_admin)
    assert verified.get("/admin/aktivera/")["Location"] == "/admin/"
    assert verify_session(Client(), principal).get("/admin/aktivera/").status_code == 302
    assert not TOTPDevice.objects.filter(user=principal).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"new_password1": "a\x00bcdefghijklm", "new_password2": "a\x00bcdefghijklm"},
        {"new_password1": "x" * 201, "new_password2": "x" * 201},
        {"otp_token": "1" * 9},
        {"new_password2": "ett-annat-losenord-77"},
    ],
)
def test_bad_input_at_enrolment_is_explained_and_enrols_nothing(client, new_staff, data):
    log_in(client, "/huvudman/", new_staff.user.username, new_staff.password)
    secret = shown(client.get("/huvudman/aktivera/").content.decode(), "totp-secret")
    form = {
        "otp_token": current_code(secret),
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        **data,
    }
    response = client.post("/huvudman/aktivera/", form)
    if "\x00" in data.get("new_password1", ""):
        assert response.status_code == 400
        assert BAD_REQUEST in response.content.decode()
    else:
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=new_staff.user).exists()
    assert User.objects.get(pk=new_staff.user.pk).check_password(new_staff.password)
