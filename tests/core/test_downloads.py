"""The gate hands the bytes to nginx (NGINX_SENDS_FILES) or streams them itself.

The end-to-end behaviour behind a real nginx is in tests/deploy/test_nginx_front.py;
here, in-process, what the app answers in each mode, and the faults and the
hung store that must never keep a worker past 5 s."""

import http.client
import socket
import time
from urllib.parse import unquote

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEvent
from core.downloads import S3_HEADER_PREFIX
from tests.core.test_s3_storage import FAULTS, broken, use
from tests.fixtures.material import PDF_BYTES, make_material
from tests.processes import S3Account

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school_day")]


def file_url(material) -> str:
    return reverse("portal:material_file", args=[material.slug])


def test_behind_nginx_a_file_on_disk_is_handed_over_by_name_after_the_audit(
    client, teacher, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.NGINX_SENDS_FILES = True
    material = make_material("matte-prov")
    material.file.save("prov med å.pdf", ContentFile(PDF_BYTES))
    client.force_login(teacher)
    response = client.get(file_url(material))
    assert response.status_code == 200
    assert not response.streaming and response.content == b""
    redirect = response["X-Accel-Redirect"]
    assert redirect.startswith("/_intern/filer/") and " " not in redirect
    assert (tmp_path / unquote(redirect.removeprefix("/_intern/filer/"))).read_bytes() == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="matte-prov.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).count() == 1


def test_behind_nginx_a_file_gone_from_disk_is_404_and_not_audited(client, teacher, settings):
    settings.NGINX_SENDS_FILES = True
    material = make_material("matte-prov")
    material.file.storage.delete(material.file.name)
    client.force_login(teacher)
    assert client.get(file_url(material)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).exists()


def test_without_nginx_the_worker_streams_the_file_as_before(client, teacher, math_item):
    client.force_login(teacher)
    response = client.get(file_url(math_item))
    assert response.streaming
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert "X-Accel-Redirect" not in response


def test_behind_nginx_an_s3_object_comes_with_a_get_signed_for_it(
    client, teacher, settings, s3_storage
):
    settings.NGINX_SENDS_FILES = True
    material = make_material("matte-prov")
    client.force_login(teacher)
    response = client.get(file_url(material))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == "/_intern/s3/"
    host = s3_storage.endpoint_url.removeprefix("http://")
    assert response[S3_HEADER_PREFIX + "Host"] == host
    assert response[S3_HEADER_PREFIX + "Path"] == f"/{s3_storage.bucket}/{material.file.name}"
    authorization = response[S3_HEADER_PREFIX + "Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=" + s3_storage.access_key)
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date" in authorization
    # What nginx will send, sent here: the store accepts exactly this GET.
    store = http.client.HTTPConnection(host, timeout=5)
    store.request(
        "GET",
        response[S3_HEADER_PREFIX + "Path"],
        headers={
            "Host": host,
            "Authorization": authorization,
            "X-Amz-Date": response[S3_HEADER_PREFIX + "Date"],
            "X-Amz-Content-Sha256": response[S3_HEADER_PREFIX + "Content-Sha256"],
        },
    )
    answer = store.getresponse()
    assert (answer.status, answer.read()) == (200, PDF_BYTES)
    assert AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).count() == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_behind_nginx_a_failing_store_is_the_swedish_503_and_not_audited(
    client, teacher, settings, monkeypatch, s3_storage, fault
):
    settings.NGINX_SENDS_FILES = True
    material = make_material("matte-prov")
    use(broken(s3_storage, fault), settings, monkeypatch)
    client.force_login(teacher)
    response = client.get(file_url(material))
    assert response.status_code == 503
    assert "Filarkivet svarar inte" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).exists()


@pytest.mark.parametrize("behind_nginx", [False, True])
def test_a_hung_store_answers_the_swedish_503_within_5_seconds(
    client, teacher, settings, monkeypatch, s3_storage, behind_nginx
):
    settings.NGINX_SENDS_FILES = behind_nginx
    material = make_material("matte-prov")
    # Accepts connections (the kernel does, for the backlog) and never answers.
    hung = socket.create_server(("127.0.0.1", 0), backlog=64)
    endpoint = f"http://127.0.0.1:{hung.getsockname()[1]}"
    account = s3_storage
    use(
        S3Account(endpoint, account.bucket, account.access_key, account.secret_key),
        settings,
        monkeypatch,
    )
    client.force_login(teacher)
    try:
        started = time.monotonic()
        response = client.get(file_url(material))
        elapsed = time.monotonic() - started
    finally:
        hung.close()
    assert response.status_code == 503
    assert elapsed < 5, elapsed
    print("ELAPSED", elapsed)
    assert not AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).exists()
