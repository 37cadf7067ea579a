"""Material on S3 (STORAGE_BACKEND=s3), against moto's S3 API server running as a
process of its own, with keys it checks: uploads land in the bucket, the
gate streams them, and a failing store (missing bucket, wrong keys,
unreachable endpoint) is a Swedish 503 page, never a traceback, with no
Material row pointing at nothing and /readyz saying 503."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEvent
from config.env import s3_storage_from_env
from permissions.models import Subject
from portal.models import Material
from tests.conftest import verify_session
from tests.fixtures.material import PDF_BYTES, make_material
from tests.processes import S3Account, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school_day")]

FAULTS = ["missing_bucket", "wrong_keys", "unreachable_endpoint"]


def broken(account: S3Account, fault: str) -> S3Account:
    if fault == "missing_bucket":
        return account.with_bucket("no-such-bucket")
    if fault == "wrong_keys":
        return S3Account(account.endpoint_url, account.bucket, "AKIAWRONGWRONGWRONG1", "wrong")
    # Nothing listens there: connections are refused.
    return S3Account(
        f"http://127.0.0.1:{free_port()}", account.bucket, account.access_key, account.secret_key
    )


def use(account: S3Account, settings, monkeypatch) -> None:
    for name, value in account.env().items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage_from_env()}


def upload_form(slug: str, content: bytes = PDF_BYTES, filename: str = "prov.pdf") -> dict:
    return {
        "title": "Prov på S3",
        "slug": slug,
        "description": "",
        "subject": Subject.objects.get(code="GRGRMAT01").pk,
        "level": "grundskola",
        "kind": "nationellt_prov",
        "is_protected": "on",
        "protection_reason": "provsekretess",
        "published_on": "2026-11-28",
        "file": SimpleUploadedFile(filename, content, content_type="application/pdf"),
    }


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_an_upload_lands_in_the_bucket_not_on_disk_and_opens_through_the_gate(
    client, national_admin, teacher, s3_storage, settings
):
    verify_session(client, national_admin)
    # A name no filesystem test uses, so that the disk check below means something.
    upload = upload_form("s3-prov", filename="endast-pa-s3.pdf")
    response = client.post("/admin/portal/material/add/", upload)
    assert response.status_code == 302, response.content.decode()[:2000]
    material = Material.objects.get(slug="s3-prov")
    assert s3_storage.object_keys() == [material.file.name]
    assert not (settings.MEDIA_ROOT / material.file.name).exists()

    client.force_login(teacher)
    download = client.get(reverse("portal:material_file", args=["s3-prov"]))
    assert download.status_code == 200
    assert body_of(download) == PDF_BYTES
    assert download["Content-Disposition"] == 'attachment; filename="s3-prov.pdf"'
    assert download["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(
        action=AuditAction.MATERIAL_DOWNLOADED, target="s3-prov"
    ).exists()


def test_two_uploads_with_the_same_file_name_never_overwrite_each_other(s3_storage):
    first = make_material("forsta")
    second = make_material("andra")
    assert first.file.name != second.file.name
    assert sorted(s3_storage.object_keys()) == sorted([first.file.name, second.file.name])


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_store_refuses_the_upload_in_swedish_and_keeps_no_material_row(
    client, national_admin, s3_storage, settings, monkeypatch, fault
):
    use(broken(s3_storage, fault), settings, monkeypatch)
    verify_session(client, national_admin)
    # As a browser sees it: the error page, not the exception the test client re-raises.
    client.raise_request_exception = False
    response = client.post("/admin/portal/material/add/", upload_form("trasig"))
    assert response.status_code == 503
    html = response.content.decode()
    assert "Filarkivet svarar inte" in html
    assert "Traceback" not in html
    assert not Material.objects.filter(slug="trasig").exists()
    assert s3_storage.object_keys() == []


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_store_answers_the_download_with_a_swedish_503_and_audits_nothing(
    client, teacher, s3_storage, settings, monkeypatch, fault
):
    make_material("matte-prov")
    use(broken(s3_storage, fault), settings, monkeypatch)
    client.force_login(teacher)
    response = client.get(reverse("portal:material_file", args=["matte-prov"]))
    assert response.status_code == 503
    assert response["Retry-After"]
    html = response.content.decode()
    assert "Filarkivet svarar inte" in html
    assert "%PDF" not in html and "Traceback" not in html
    assert not AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).exists()


@pytest.mark.parametrize("fault", FAULTS)
def test_readyz_is_503_while_the_store_fails_and_200_when_it_answers(
    client, s3_storage, settings, monkeypatch, fault
):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["storage"] == "ok"

    use(broken(s3_storage, fault), settings, monkeypatch)
    failing = client.get("/readyz")
    assert failing.status_code == 503
    assert failing.json() == {
        "status": "unavailable",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "card_key": "ok",
            "storage": "unavailable",
        },
    }


def test_an_object_gone_from_the_bucket_is_a_404_like_a_file_gone_from_disk(
    client, teacher, s3_storage
):
    material = make_material("matte-prov")
    s3_storage.client().delete_object(Bucket=s3_storage.bucket, Key=material.file.name)
    client.force_login(teacher)
    assert client.get(reverse("portal:material_file", args=["matte-prov"])).status_code == 404
