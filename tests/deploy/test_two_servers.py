"""Two production app servers behind nginx, on one PostgreSQL and one S3 store.

nginx runs the shipped deploy/nginx/behorighet.conf unchanged, each gunicorn
the shipped deploy/gunicorn.conf.py with config.settings.prod. nginx takes
turns between the servers (round robin); the test steers each request to
the server it names and checks, by nginx's X-Upstream header, that it went
there. Everything that must hold across servers is shown crossing them.
"""

import json
import time
from dataclasses import dataclass

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import MatrixCardDevice, PasswordFailure, Role, ThrottleBurst
from accounts.services.cards import card_issue
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.models import AuditEvent
from permissions.models import Membership, Subject
from portal.models import Material
from schools.models import PrincipalAssignment
from tests.conftest import END_OF_YEAR
from tests.deploy.browser import Browser, Response, asked_cells
from tests.deploy.conftest import database_url, password_form, person, server_env
from tests.fixtures.material import PDF_BYTES
from tests.processes import S3Account, Server, start_gunicorn, start_nginx, wait_for_http

pytestmark = pytest.mark.django_db(transaction=True)

METRICS_TOKEN = "two-servers-metrics-token-0123456789abcdef"
PORTAL_LOGIN = "/bedomningsportalen/logga-in/"
ETJANSTER_LOGIN = "/e-tjanster/logga-in/"
MATRIX = "/e-tjanster/logga-in/matris/"
# A cheap request for steering (a static file: no database, no session);
# nginx refuses the probes /healthz and /readyz to the public.
PROBE = "/static/css/site.css"


@dataclass
class Stack:
    a: Server
    b: Server
    nginx: Server
    s3: S3Account

    def browser(self, source: str = "127.0.0.1") -> Browser:
        return Browser(self.nginx.port, source=source)

    def send(self, server: Server, browser: Browser, method: str, path: str, **kwargs) -> Response:
        """One request through nginx that lands on `server` (a download that
        nginx carries itself has no X-Upstream of the app: `carried=True`)."""
        carried = kwargs.pop("carried", False)
        if method == "POST" and "csrfmiddlewaretoken" not in kwargs.get("data", {}):
            browser._csrf(kwargs.pop("csrf_from", "") or path)
        # nginx alternates: once a probe lands on the other server, the next
        # request lands on this one.
        for _ in range(4):
            if browser.get(PROBE).upstream != f"127.0.0.1:{server.port}":
                break
        else:
            raise AssertionError("nginx does not alternate between the servers")
        if method == "GET":
            response = browser.get(path, headers=kwargs.get("headers"))
        elif "files" in kwargs:
            response = browser.post_multipart(path, kwargs["data"], kwargs["files"])
        else:
            response = browser.post(path, kwargs["data"], headers=kwargs.get("headers"))
        if not carried:
            assert response.upstream == f"127.0.0.1:{server.port}", "steered to the wrong server"
        return response


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, s3_account, static_root, nginx, tmp_path_factory):
    logs = tmp_path_factory.mktemp("two-servers")
    with django_db_blocker.unblock():
        url = database_url()
    env = server_env(
        database_url=url,
        static_root=static_root,
        TRUSTED_PROXY_COUNT="1",
        METRICS_TOKEN=METRICS_TOKEN,
        # As production runs: nginx carries the downloads, from the S3 store.
        NGINX_SENDS_FILES="true",
        **s3_account.env(),
    )
    servers = [start_gunicorn(name, env, logs, workers=2, wait=False) for name in ("a", "b")]
    try:
        for server in servers:
            wait_for_http(server)
        front = start_nginx(servers, logs, s3_endpoint=s3_account.endpoint_url)
    except Exception:
        for server in servers:
            server.stop()
        raise
    yield Stack(a=servers[0], b=servers[1], nginx=front, s3=s3_account)
    for server in (front, *servers):
        server.stop()


# --- People, committed so that the servers see them -----------------------------------


@pytest.fixture
def teacher(school):
    user = person("larare", Role.TEACHER, last_name="Lärarsson")
    membership = Membership.objects.create(user=user, school_unit=school, valid_until=END_OF_YEAR)
    membership.subjects.set(Subject.objects.filter(code="GRGRMAT01"))
    return user


@pytest.fixture
def principal_card(school):
    user = person("rektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=user, school_unit=school)
    return card_issue(user=user, context=AuditContext.system())


# --- The tests --------------------------------------------------------------------------


def test_a_login_on_one_server_continues_on_the_other(stack, teacher, principal_card):
    a, b = stack.a, stack.b
    reader = stack.browser()
    assert stack.send(a, reader, "POST", PORTAL_LOGIN, data=password_form("larare")).status == 302
    account = stack.send(b, reader, "GET", "/bedomningsportalen/konto/")
    assert account.status == 200
    assert "Lärarsson" in account.text

    head = stack.browser()
    step1 = stack.send(a, head, "POST", ETJANSTER_LOGIN, data=password_form("rektor"))
    assert (step1.status, step1.location) == (302, MATRIX)
    cells = asked_cells(stack.send(b, head, "GET", MATRIX).text)
    assert len(cells) == 3
    # The challenge is pinned on the card row: server A asks the same cells.
    assert asked_cells(stack.send(a, head, "GET", MATRIX).text) == cells
    answers = {cell: principal_card.cells[cell] for cell in cells}
    step2 = stack.send(b, head, "POST", MATRIX, data=answers)
    assert (step2.status, step2.location) == (302, "/e-tjanster/")
    home = stack.send(a, head, "GET", "/e-tjanster/")
    assert home.status == 200 and "Serverskolan" in home.text


def test_the_password_throttle_counts_failures_made_on_both_servers(stack, teacher):
    a, b = stack.a, stack.b
    guesser = stack.browser()
    wrong = password_form("larare", "fel-losenord-123")
    for server in (a, b, a):  # the three free failures, on alternating servers
        assert stack.send(server, guesser, "POST", PORTAL_LOGIN, data=wrong).status == 200
    time.sleep(1.2)  # the fourth may come after 1 s
    assert stack.send(b, guesser, "POST", PORTAL_LOGIN, data=wrong).status == 200
    assert PasswordFailure.objects.count() == 4
    # Four failures, two on each server: the next attempt waits 2 s, wherever
    # it lands and even with the right password.
    refused = stack.send(a, guesser, "POST", PORTAL_LOGIN, data=password_form("larare"))
    assert refused.status == 200
    assert "För många försök, vänta till kl." in refused.text
    # The refused attempt is counted in its burst (one audit event per burst).
    assert ThrottleBurst.objects.get().count == 1


def test_the_card_throttle_counts_wrong_answers_made_on_both_servers(stack, principal_card):
    a, b = stack.a, stack.b
    head = stack.browser()
    stack.send(a, head, "POST", ETJANSTER_LOGIN, data=password_form("rektor"))
    cells = asked_cells(stack.send(b, head, "GET", MATRIX).text)
    wrong = {cell: "ZZ" if principal_card.cells[cell] != "ZZ" else "YY" for cell in cells}
    right = {cell: principal_card.cells[cell] for cell in cells}
    assert stack.send(a, head, "POST", MATRIX, data=wrong).status == 200
    time.sleep(1.2)  # the second answer may come after 1 s
    assert stack.send(b, head, "POST", MATRIX, data=wrong).status == 200
    device = MatrixCardDevice.objects.get(pk=principal_card.device.pk)
    assert device.throttling_failure_count == 2
    # Two wrong answers, one on each server: the right one must wait 2 s.
    early = stack.send(a, head, "POST", MATRIX, data=right)
    assert early.status == 200
    assert "försök igen kl." in early.text
    time.sleep(2.2)
    accepted = stack.send(b, head, "POST", MATRIX, data=right)
    assert (accepted.status, accepted.location) == (302, "/e-tjanster/")


def test_a_file_uploaded_through_one_server_downloads_through_the_other(stack, teacher, settings):
    a, b = stack.a, stack.b
    admin = person("nationell", Role.NATIONAL_ADMIN, is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    office = stack.browser()
    login = stack.send(
        a, office, "POST", "/admin/login/", data={**password_form("nationell"), "otp_token": code}
    )
    assert login.status == 302, login.text[:3000]
    # Larger than the 1 MB limit elsewhere: material PDFs have their own.
    content = PDF_BYTES + b"%" * (1_500_000) + b"\n%%EOF\n"
    form = {
        "title": "Prov genom två servrar",
        "slug": "tva-servrar",
        "description": "",
        "subject": str(Subject.objects.get(code="GRGRMAT01").pk),
        "level": "grundskola",
        "kind": "nationellt_prov",
        "is_protected": "on",
        "protection_reason": "provsekretess",
        "published_on": "2026-11-28",
    }
    uploaded = stack.send(
        a,
        office,
        "POST",
        "/admin/portal/material/add/",
        data=form,
        files={"file": ("prov.pdf", content, "application/pdf")},
        csrf_from="/admin/portal/material/add/",
    )
    assert uploaded.status == 302, uploaded.text[:3000]
    material = Material.objects.get(slug="tva-servrar")
    assert material.file.name in stack.s3.object_keys()

    reader = stack.browser()
    stack.send(a, reader, "POST", PORTAL_LOGIN, data=password_form("larare"))
    download = stack.send(
        b, reader, "GET", "/bedomningsportalen/material/tva-servrar/fil/", carried=True
    )
    assert download.status == 200
    # Server B's gate allowed it; nginx fetched the bytes from the store.
    assert "portal:material_file" in b.log() and "portal:material_file" not in a.log()
    assert download.body == content
    assert download.headers["Content-Disposition"] == 'attachment; filename="tva-servrar.pdf"'
    assert download.headers["Cache-Control"] == "private, no-store"

    # The admin in English takes the same large upload.
    english = stack.send(
        b,
        office,
        "POST",
        "/en/admin/portal/material/add/",
        data={**form, "slug": "tva-servrar-en"},
        files={"file": ("prov.pdf", content, "application/pdf")},
        csrf_from="/en/admin/portal/material/add/",
    )
    assert english.status == 302, english.text[:3000]
    assert Material.objects.get(slug="tva-servrar-en").file.name in stack.s3.object_keys()


def test_the_audit_log_records_the_address_nginx_saw_not_a_forged_one(stack, teacher):
    # The client connects from 127.0.0.2 and claims to be 203.0.113.9.
    outsider = stack.browser(source="127.0.0.2")
    forged = {"X-Forwarded-For": "203.0.113.9"}
    response = stack.send(
        stack.a, outsider, "POST", PORTAL_LOGIN, data=password_form("larare"), headers=forged
    )
    assert response.status == 302
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_SUCCEEDED, target="larare")
    # Not the forged entry, and not nginx's own address (REMOTE_ADDR at the app).
    assert event.ip_address == "127.0.0.2"


def test_a_2_mb_upload_is_refused_by_nginx_with_a_swedish_page(stack):
    body = b"Fornamn;Efternamn;E-post\r\n" + b"x" * 2_000_000
    response = stack.browser().request(
        "POST",
        "/e-tjanster/skolor/11111111/larare/importera/",
        body=body,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status == 413
    assert "Det du skickade är för stort" in response.text
    assert "Traceback" not in response.text and "nginx" not in response.text
    # No app server ever received the upload.
    for server in (stack.a, stack.b):
        assert "etjanster:teacher_import" not in server.log()


def test_each_server_adds_up_the_metrics_of_all_its_workers(stack):
    direct = Browser(stack.a.port)
    for _ in range(12):
        assert direct.get("/hjalp/").status == 200
    scrape = direct.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scrape.status == 200
    counts = [
        float(line.rsplit(" ", 1)[1])
        for line in scrape.text.splitlines()
        if line.startswith("behorighet_http_requests_total{")
        and 'route="support:help"' in line
        and 'status="200"' in line
    ]
    assert sum(counts) >= 12
    # Through the balancer /metrics does not exist, token or not, spelled in any way.
    public = stack.browser()
    for path in ("/metrics", "/metrics/", "/metrics//", "/%6Detrics"):
        blocked = public.get(path, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert blocked.status == 404, path
        assert "behorighet_http_requests_total" not in blocked.text


def test_the_probes_answer_only_on_each_app_server_never_through_nginx(stack):
    direct = Browser(stack.a.port)
    public = stack.browser()
    for path in ("/healthz", "/readyz"):
        assert direct.get(path).status == 200
        for spelled in (path, path + "/"):
            refused = public.get(spelled)
            assert refused.status == 404, spelled
            assert "status" not in refused.text


def test_nginx_request_id_reaches_the_app_log_and_the_response(stack):
    response = stack.browser().get("/hjalp/")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    server = stack.a if response.upstream.endswith(f":{stack.a.port}") else stack.b
    deadline = time.monotonic() + 5
    lines: list[dict] = []
    while time.monotonic() < deadline and not lines:
        lines = [
            json.loads(line)
            for line in server.log().splitlines()
            if line.startswith("{") and request_id in line
        ]
        time.sleep(0.1)
    assert lines and lines[0]["route"] == "support:help"
    assert lines[0]["status"] == 200
