"""Material, notices and tickets guard themselves; the national admin manages them."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.context_processors import ActiveNotices
from core.models import SiteNotice
from permissions.models import Subject
from portal.models import Material, SupportTicket
from portal.validators import validate_pdf
from tests.conftest import verify_session
from tests.fixtures.material import PDF_BYTES, make_material

pytestmark = pytest.mark.django_db


def test_a_protected_item_needs_a_reason_and_an_open_item_has_none(db):
    subject = Subject.objects.get(code="GRGRMAT01")
    fields = {"subject": subject, "level": "grundskola", "kind": "bedomningsstod", "file": "a.pdf"}
    with pytest.raises(IntegrityError):
        Material.objects.create(title="A", slug="a", is_protected=True, **fields)


def test_an_open_item_with_a_reason_is_refused(db):
    subject = Subject.objects.get(code="GRGRMAT01")
    fields = {"subject": subject, "level": "grundskola", "kind": "bedomningsstod", "file": "a.pdf"}
    with pytest.raises(IntegrityError):
        Material.objects.create(
            title="B", slug="b", is_protected=False, protection_reason="upphovsratt", **fields
        )


def test_uploads_must_be_pdfs_by_their_first_bytes():
    validate_pdf(SimpleUploadedFile("prov.pdf", PDF_BYTES))
    with pytest.raises(ValidationError) as refused:
        validate_pdf(SimpleUploadedFile("prov.pdf", b"<html>not a pdf</html>"))
    assert refused.value.code == "not_pdf"


def test_a_notice_must_end_after_it_starts(db):
    now = timezone.now()
    with pytest.raises(IntegrityError):
        SiteNotice.objects.create(title="Fel", starts_at=now, ends_at=now)


def test_active_notices_show_on_every_page_with_one_query(client, db):
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    SiteNotice.objects.create(title="Driftstopp i kväll", starts_at=now - hour, ends_at=now + hour)
    SiteNotice.objects.create(title="Gammalt meddelande", starts_at=now - 3 * hour, ends_at=now)
    SiteNotice.objects.create(title="Kommande", starts_at=now + hour, ends_at=now + 2 * hour)
    for url in ("/", "/hjalp/", "/bedomningsportalen/", "/kontakt/"):
        with CaptureQueriesContext(connection) as captured:
            html = client.get(url).content.decode()
        assert "Driftstopp i kväll" in html
        assert "Gammalt meddelande" not in html and "Kommande" not in html
        notice_queries = [q for q in captured.captured_queries if "portal_sitenotice" in q["sql"]]
        assert len(notice_queries) == 1


def test_national_admin_uploads_material_and_a_non_pdf_is_refused_in_swedish(
    client, national_admin
):
    verify_session(client, national_admin)
    subject = Subject.objects.get(code="GRGRMAT01")
    form = {
        "title": "Nytt prov",
        "slug": "nytt-prov",
        "description": "",
        "subject": subject.pk,
        "level": "grundskola",
        "kind": "nationellt_prov",
        "is_protected": "on",
        "protection_reason": "provsekretess",
        "published_on": "2026-11-28",
    }
    bad = client.post(
        "/admin/portal/material/add/",
        {**form, "file": SimpleUploadedFile("prov.pdf", b"MZ not a pdf")},
    )
    assert bad.status_code == 200
    assert "Filen är ingen PDF" in bad.content.decode()
    assert not Material.objects.exists()

    good = client.post(
        "/admin/portal/material/add/", {**form, "file": SimpleUploadedFile("prov.pdf", PDF_BYTES)}
    )
    assert good.status_code == 302
    material = Material.objects.get(slug="nytt-prov")
    assert material.file.read() == PDF_BYTES


def test_admin_refuses_a_protected_item_without_a_reason_with_a_message(client, national_admin):
    verify_session(client, national_admin)
    response = client.post(
        "/admin/portal/material/add/",
        {
            "title": "Utan skäl",
            "slug": "utan-skal",
            "subject": Subject.objects.get(code="GRGRMAT01").pk,
            "level": "grundskola",
            "kind": "nationellt_prov",
            "is_protected": "on",
            "protection_reason": "",
            "published_on": "2026-11-28",
            "file": SimpleUploadedFile("prov.pdf", PDF_BYTES),
        },
    )
    assert response.status_code == 200
    assert "Skyddat material måste ha ett skäl" in response.content.decode()


def test_admin_lists_material_notices_and_tickets(client, national_admin):
    material = make_material("listad", title="Listat bedömningsstöd")
    now = timezone.now()
    notice = SiteNotice.objects.create(
        title="Planerat underhåll", starts_at=now, ends_at=now + datetime.timedelta(days=1)
    )
    ticket = SupportTicket.objects.create(
        name="Sara Sändare",
        email="sara@skola.example",
        subject="Var finns provet?",
        message="Jag hittar inte provet.",
    )
    verify_session(client, national_admin)
    rows = {
        "/admin/portal/material/": (material, "Listat bedömningsstöd"),
        "/admin/core/sitenotice/": (notice, "Planerat underhåll"),
        "/admin/portal/supportticket/": (ticket, "Var finns provet?"),
    }
    for url, (row, text) in rows.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'href="{url}{row.pk}/change/' in html, url
        assert text in html, url
    assert client.get("/admin/portal/supportticket/add/").status_code == 403


def test_national_admin_edits_an_item_without_uploading_its_file_again(client, national_admin):
    material = make_material("andras", protected=False)
    verify_session(client, national_admin)
    response = client.post(
        f"/admin/portal/material/{material.pk}/change/",
        {
            "title": "Nytt namn",
            "slug": "andras",
            "description": "",
            "subject": material.subject_id,
            "level": "grundskola",
            "kind": "bedomningsstod",
            "protection_reason": "",
            "published_on": "2026-11-28",
        },
    )
    assert response.status_code == 302
    material.refresh_from_db()
    assert material.title == "Nytt namn"
    assert material.file.read() == PDF_BYTES


def test_the_plain_notice_read_lists_what_the_orm_lists_in_its_order(db):
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    for title, start, end in [
        ("Andra", now - hour, now + hour),
        ("Första", now - 2 * hour, now + 3 * hour),
        ("Slut", now - 2 * hour, now),
        ("Sedan", now + hour, now + 2 * hour),
    ]:
        SiteNotice.objects.create(title=title, starts_at=start, ends_at=end)
    notices = list(ActiveNotices(now))
    assert [n.title for n in notices] == [n.title for n in SiteNotice.objects.active_at(now)]
    assert [n.title for n in notices] == ["Första", "Andra"]
    # As the page shows them: in the page's language, here Swedish.
    assert notices[0] == ("Första", "", "")


def test_notices_are_not_read_when_the_page_never_shows_them(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        ActiveNotices(timezone.now())
