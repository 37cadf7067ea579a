"""One JSON line per request (LOG_FORMAT=json), the request id in the response,
and never a password, card value, TOTP secret or session key in the log."""

import io
import json
import logging

import pytest
from django.conf import settings
from django.test import Client
from django.utils.log import configure_logging
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services.cards import card_issue
from audit.context import AuditContext
from tests.fixtures.logins import asked_cells, current_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """The project's own LOGGING with LOG_FORMAT=json, written to a buffer."""
    stream = io.StringIO()
    config = json.loads(json.dumps(settings.LOGGING))
    config["handlers"]["console"]["formatter"] = "json"
    config["handlers"]["console"]["stream"] = stream
    configure_logging(settings.LOGGING_CONFIG, config)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.setLevel(level)
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def request_lines(stream: io.StringIO) -> list[dict]:
    return [line for line in lines(stream) if line["logger"] == "behorighet.request"]


def test_each_request_is_one_json_line_with_the_id_of_its_response_header(client, json_log):
    first = client.get("/")
    second = client.get("/finns-inte/")
    logged = request_lines(json_log)
    assert len(logged) == 2
    assert set(logged[0]) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "route",
        "status",
        "duration_ms",
        "user_id",
    }
    assert logged[0]["request_id"] == first["X-Request-ID"]
    assert logged[1]["request_id"] == second["X-Request-ID"] != first["X-Request-ID"]
    assert (logged[0]["method"], logged[0]["route"], logged[0]["status"]) == ("GET", "home", 200)
    assert (logged[1]["route"], logged[1]["status"]) == ("unmatched", 404)
    assert logged[0]["user_id"] is None
    assert isinstance(logged[0]["duration_ms"], float)
    assert 0 < logged[0]["duration_ms"] < 60_000


def test_the_proxy_request_id_is_kept_and_a_strange_one_replaced(client, json_log):
    nginx_id = "0123456789abcdef0123456789abcdef"
    assert client.get("/", HTTP_X_REQUEST_ID=nginx_id)["X-Request-ID"] == nginx_id
    forged = client.get("/", HTTP_X_REQUEST_ID="x\n{injected}")["X-Request-ID"]
    assert forged != "x\n{injected}" and len(forged) == 32
    assert [line["request_id"] for line in request_lines(json_log)] == [nginx_id, forged]


def test_the_route_is_the_pattern_name_never_the_path(client, json_log, principal_client):
    principal_client.get("/e-tjanster/skolor/11111111/larare/hemlig-larare/")
    logged = request_lines(json_log)[-1]
    assert logged["route"] == "etjanster:teacher_detail"
    assert "hemlig-larare" not in json_log.getvalue()


def test_django_s_own_lines_name_the_route_never_the_path(principal, json_log):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(principal)
    refused = strict.post("/e-tjanster/skolor/11111111/larare/hemlig-larare/", {"x": "1"})
    assert refused.status_code == 403
    csrf = [line for line in lines(json_log) if line["logger"] == "django.security.csrf"]
    assert csrf and csrf[0]["message"].startswith("Forbidden (CSRF")
    assert "[route etjanster:teacher_detail]" in csrf[0]["message"]
    assert "hemlig-larare" not in json_log.getvalue()


def test_whole_logins_leave_no_secret_in_the_log(client, json_log, principal, teacher, settings):
    settings.OTP_MATRIX_THROTTLE_FACTOR = 0  # the right answer right after a wrong one
    """The E-tjänster login (password and card), the portal login and the
    admin login (password and TOTP), including wrong attempts."""
    card = card_issue(user=principal, context=AuditContext.system())
    client.post("/e-tjanster/logga-in/", {"username": "rektor", "password": "fel-1234-abcd"})
    client.post("/e-tjanster/logga-in/", {"username": "rektor", "password": "rektor-password-1234"})
    cells = asked_cells(client.get("/e-tjanster/logga-in/matris/"))
    client.post("/e-tjanster/logga-in/matris/", {cell: "ZZ" for cell in cells})
    client.post("/e-tjanster/logga-in/matris/", {cell: card.cells[cell] for cell in cells})
    assert client.get("/e-tjanster/").status_code == 200
    session_keys = {client.session.session_key}
    client.post("/logga-ut/")

    client.post(
        "/bedomningsportalen/logga-in/",
        {"username": "larare", "password": "larare-password-1234"},
    )
    session_keys.add(client.session.session_key)

    from tests.conftest import make_user

    admin = make_user("nationell", "national_admin", is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    code = current_code(device)
    client.post(
        "/admin/login/",
        {"username": "nationell", "password": "nationell-password-1234", "otp_token": code},
    )
    session_keys.add(client.session.session_key)

    log = json_log.getvalue()
    logged = request_lines(json_log)
    assert len(logged) >= 8
    assert any(line["user_id"] == principal.pk for line in logged)
    secrets = [
        "rektor-password-1234",
        "fel-1234-abcd",
        "larare-password-1234",
        "nationell-password-1234",
        code,
        device.key,
        *session_keys,
        # Cells are two characters, which random ids contain by chance; the
        # answers would show up as a whole or next to their cell's name.
        "".join(card.cells[cell] for cell in cells),
        *(f"{cell}={card.cells[cell]}" for cell in cells),
        *(f'"{cell}": "{card.cells[cell]}"' for cell in cells),
    ]
    for secret in secrets:
        assert secret not in log, secret
