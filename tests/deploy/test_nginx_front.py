"""nginx in front: downloads it carries once the gate has decided, and the
request limits it enforces before any app server is asked.

Downloads: the gate decides and audits, nginx carries the bytes.

gunicorn runs the shipped config with NGINX_SENDS_FILES=true, nginx the
shipped site files: a file on disk (nginx reads MEDIA_ROOT), an object in
moto's S3 server (nginx fetches it with the GET the app signed), and a store
that fails (refuses, hangs, or answers the app's HEAD and then hangs the
GET), which must give the Swedish 503 page within 5 s, never a 500.
"""

import signal
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile

from accounts.models import Role
from audit.actions import AuditAction
from audit.models import AuditEvent
from permissions.models import Membership, Subject
from portal.models import Material
from tests.conftest import END_OF_YEAR
from tests.deploy.browser import Browser
from tests.deploy.conftest import database_url, password_form, person, server_env
from tests.fixtures.material import make_material
from tests.processes import Server, start_gunicorn, start_nginx, wait_for_http

pytestmark = pytest.mark.django_db(transaction=True)

PORTAL_LOGIN = "/bedomningsportalen/logga-in/"
# The site's list of addresses exempt from the request limits.
EXEMPT = "127.0.0.9"
# Large enough that a worker streaming it would show; nginx sends it from disk.
CONTENT = b"%PDF-1.4\n" + bytes(range(256)) * 8192 + b"\n%%EOF\n"


class FailingStore:
    """An S3 endpoint that fails as told: `hang` accepts every connection and
    never answers; `hang_get` answers the app's HEAD (the object exists) and
    then never answers nginx's GET."""

    def __init__(self, mode: str = "hang"):
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            request = client.recv(65536)
            if self.mode == "hang_get" and request.startswith(b"HEAD "):
                client.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                    b"Content-Length: 1000\r\nConnection: close\r\n\r\n"
                )
                client.close()
            else:
                self.held.append(client)

    def stop(self) -> None:
        self.listener.close()
        for client in self.held:
            client.close()
        self.held.clear()


@dataclass
class Front:
    app: Server
    nginx: Server

    def browser(self) -> Browser:
        return Browser(self.nginx.port)


def _stop(front: Front) -> None:
    front.nginx.stop()
    # gunicorn's quick shutdown: an idle sync worker would otherwise sit out
    # its select() timeout before it notices a graceful TERM.
    front.app.process.send_signal(signal.SIGINT)
    front.app.stop()


def _start(name, env, logs, workers=1, **nginx_options) -> Front:
    app = start_gunicorn(name, env, logs, workers=workers, wait=False)
    try:
        wait_for_http(app)
        return Front(app, start_nginx([app], logs, **nginx_options))
    except Exception:
        app.stop()
        raise


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def base_env(django_db_setup, django_db_blocker, static_root, nginx):
    with django_db_blocker.unblock():
        url = database_url()
    return server_env(
        database_url=url, static_root=static_root, TRUSTED_PROXY_COUNT="1", NGINX_SENDS_FILES="true"
    )


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def disk(base_env, media_root, logs):
    env = {**base_env, "MEDIA_ROOT": str(media_root)}
    front = _start("disk", env, logs, workers=2, media_root=media_root, exempt=(EXEMPT,))
    yield front
    _stop(front)


@pytest.fixture(scope="module")
def bucket(s3_account):
    return s3_account.create_bucket("downloads-behind-nginx")


@pytest.fixture(scope="module")
def s3(base_env, bucket, logs):
    front = _start("s3", {**base_env, **bucket.env()}, logs, s3_endpoint=bucket.endpoint_url)
    yield front
    _stop(front)


@pytest.fixture
def teacher(school):
    user = person("larare", Role.TEACHER, last_name="Lärarsson")
    membership = Membership.objects.create(user=user, school_unit=school, valid_until=END_OF_YEAR)
    membership.subjects.set(Subject.objects.filter(code="GRGRMAT01"))
    return user


def _logged_in(front: Front) -> Browser:
    reader = front.browser()
    assert reader.post(PORTAL_LOGIN, password_form("larare")).status == 302
    return reader


def _material_on_disk(settings, media_root, slug="prov-fran-disk") -> Material:
    settings.MEDIA_ROOT = media_root
    material = make_material(slug)
    material.file.save(f"{slug} å.pdf", ContentFile(CONTENT))
    return material


def _assert_ours(response, *, length: int) -> None:
    """The gate's headers, nginx's bytes, and nothing of the store or the signature."""
    assert response.status == 200
    assert len(response.body) == length
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for name in response.headers:
        assert not name.lower().startswith(("x-behorighet", "x-accel", "authorization")), name
    for name in ("x-amz-request-id", "x-amz-id-2"):
        assert name not in response.headers


def test_nginx_sends_a_file_on_disk_after_the_gate_and_its_audit_event(
    disk, teacher, settings, media_root
):
    material = _material_on_disk(settings, media_root)
    reader = _logged_in(disk)
    response = reader.get("/bedomningsportalen/material/prov-fran-disk/fil/")
    _assert_ours(response, length=len(CONTENT))
    assert response.body == CONTENT
    assert response.headers["Content-Disposition"] == 'attachment; filename="prov-fran-disk.pdf"'
    assert AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).count() == 1
    # The worker sent no bytes: its answer, straight from gunicorn, is empty
    # and names the file for nginx.
    direct = Browser(disk.app.port)
    direct.cookies = reader.cookies
    handed = direct.get("/bedomningsportalen/material/prov-fran-disk/fil/")
    assert handed.body == b""
    assert handed.headers["X-Accel-Redirect"].startswith("/_intern/filer/")
    assert material.file.name.split("/")[-1].startswith("prov-fran-disk")
    # Ranges work, as for any file nginx sends (a resumed download).
    part = reader.get(
        "/bedomningsportalen/material/prov-fran-disk/fil/", headers={"Range": "bytes=0-8"}
    )
    assert (part.status, part.body) == (206, CONTENT[:9])


def test_the_internal_locations_are_not_reachable_from_outside(disk, teacher, settings, media_root):
    material = _material_on_disk(settings, media_root, slug="intern")
    visitor = disk.browser()
    for path in (f"/_intern/filer/{quote(material.file.name)}", "/_intern/s3/", "/fel/saknas/"):
        response = visitor.get(path)
        assert response.status == 404, path
        assert CONTENT[:100] not in response.body
        assert '<html lang="sv"' in response.text and "nginx" not in response.text


def test_a_refused_teacher_gets_the_refusal_and_no_bytes(disk, school, settings, media_root):
    _material_on_disk(settings, media_root, slug="stangt")
    user = person("larare", Role.TEACHER)
    Membership.objects.create(user=user, school_unit=school, valid_until=END_OF_YEAR)
    response = _logged_in(disk).get("/bedomningsportalen/material/stangt/fil/")
    assert response.status == 403
    assert CONTENT[:100] not in response.body and "X-Accel-Redirect" not in response.headers


def test_nginx_fetches_an_s3_object_with_the_request_the_app_signed(s3, teacher, settings, bucket):
    from config.env import s3_storage_from_env

    with pytest.MonkeyPatch.context() as patch:
        for name, value in bucket.env().items():
            patch.setenv(name, value)
        settings.STORAGES = {**settings.STORAGES, "default": s3_storage_from_env()}
        material = make_material("prov-i-s3")
        material.file.save("prov i s3.pdf", ContentFile(CONTENT))
    response = _logged_in(s3).get("/bedomningsportalen/material/prov-i-s3/fil/")
    _assert_ours(response, length=len(CONTENT))
    assert response.body == CONTENT
    assert AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).count() == 1
    # A signature from another download opens nothing else: nginx's S3
    # location is internal, and the browser never saw a signature anyway.
    assert s3.browser().get("/_intern/s3/").status == 404


@pytest.fixture(scope="module")
def failing_store():
    store = FailingStore()
    yield store
    store.stop()


@pytest.fixture(scope="module")
def failing(base_env, logs, s3_account, failing_store):
    endpoint = f"http://127.0.0.1:{failing_store.port}"
    env = {**base_env, **s3_account.env(), "S3_ENDPOINT_URL": endpoint}
    front = _start("failing", env, logs, s3_endpoint=endpoint)
    yield front
    _stop(front)


# In this order: "refused" closes the store for good.
@pytest.mark.parametrize("mode", ["hang_get", "hang", "refused"])
def test_a_failing_store_gives_the_swedish_503_within_5_seconds(
    mode, failing, failing_store, teacher
):
    failing_store.mode = mode
    if mode == "refused":
        failing_store.stop()
    Material.objects.create(
        title="Prov",
        slug="prov-i-trasigt-arkiv",
        subject=Subject.objects.get(code="GRGRMAT01"),
        level="grundskola",
        kind="bedomningsstod",
        is_protected=True,
        protection_reason="provsekretess",
        file="material/prov.pdf",
    )
    reader = _logged_in(failing)
    started = time.monotonic()
    response = reader.get("/bedomningsportalen/material/prov-i-trasigt-arkiv/fil/")
    elapsed = time.monotonic() - started
    assert response.status == 503, response.text[:2000]
    assert elapsed < 5, elapsed
    assert "Filarkivet svarar inte" in response.text
    assert "Traceback" not in response.text and "nginx" not in response.text
    assert response.headers["Retry-After"]
    if mode != "hang_get":
        # The app found out before it answered: nothing was audited.
        assert not AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).exists()


# --- Request limits ------------------------------------------------------------------------


def _flood(front: Front, path: str, count: int, source: str) -> list:
    flooder = Browser(front.nginx.port, source=source)
    return [flooder.get(path) for _ in range(count)]


@pytest.mark.parametrize(
    ("path", "count", "source"),
    [
        (PORTAL_LOGIN, 40, "127.0.0.3"),
        ("/en/e-tjanster/logga-in/", 40, "127.0.0.4"),
        ("/bedomningsportalen/glomt-losenord/", 20, "127.0.0.5"),
        ("/static/css/site.css", 300, "127.0.0.6"),
    ],
)
def test_a_flood_gets_nginx_s_swedish_429_before_any_app_server(disk, path, count, source):
    responses = _flood(disk, path, count, source)
    refused = [r for r in responses if r.status == 429]
    assert refused, [r.status for r in responses]
    assert {r.status for r in responses} == {200, 429}
    page = refused[0]
    # nginx answered, no app server was asked.
    assert page.upstream == ""
    assert '<html lang="sv">' in page.text and "För många förfrågningar" in page.text
    assert page.headers["Retry-After"] == "10"
    assert "nginx" not in page.text
    # The first ones (the burst a staff room needs) all got through.
    assert all(r.status == 200 for r in responses[:10])


def test_an_exempt_address_is_not_limited(disk):
    responses = _flood(disk, PORTAL_LOGIN, 40, EXEMPT)
    assert {r.status for r in responses} == {200}


def test_more_than_100_open_requests_from_one_address_get_429(disk):
    """Requests in progress count (limit_conn): 100 uploads that never send
    their body hold their slots, and the 101st request is refused."""
    held = []
    try:
        for _ in range(100):
            upload = socket.create_connection(
                ("127.0.0.1", disk.nginx.port), source_address=("127.0.0.8", 0)
            )
            upload.sendall(
                b"POST /kontakt/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
            )
            held.append(upload)
        time.sleep(0.3)
        refused = Browser(disk.nginx.port, source="127.0.0.8").get("/static/css/site.css")
        assert refused.status == 429 and "För många förfrågningar" in refused.text
    finally:
        for upload in held:
            upload.close()
    time.sleep(0.3)
    assert Browser(disk.nginx.port, source="127.0.0.8").get("/static/css/site.css").status == 200
