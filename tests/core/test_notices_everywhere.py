"""A site notice is shown on every page: the sites, both admin sites, the
error pages, in the page's language (SPEC: "every page means the admin sites
and error pages too")."""

import datetime

import pytest
from django.db import DatabaseError, OperationalError
from django.test import RequestFactory
from django.utils import timezone

from core import views
from core.models import SiteNotice

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice():
    now = timezone.now()
    return SiteNotice.objects.create(
        title="Planerat avbrott",
        body="Tjänsten är stängd i natt.",
        title_en="Planned downtime",
        body_en="The service is closed tonight.",
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=1),
    )


@pytest.mark.parametrize(
    "path", ["/", "/huvudman/login/", "/admin/login/", "/finns-inte/", "/bedomningsportalen/kod/"]
)
def test_the_notice_is_on_every_kind_of_page(client, notice, path):
    page = client.get(path).content.decode()
    assert "Planerat avbrott" in page
    assert "Planned downtime" not in page


@pytest.mark.parametrize("path", ["/en/", "/en/huvudman/login/", "/en/finns-inte/"])
def test_english_pages_show_the_english_text(client, notice, path):
    page = client.get(path).content.decode()
    assert "Planned downtime" in page and "Planerat avbrott" not in page


def test_without_an_english_text_the_swedish_one_is_marked_swedish(client, notice):
    SiteNotice.objects.filter(pk=notice.pk).update(title_en="", body_en="")
    page = client.get("/en/").content.decode()
    assert 'lang="sv"><strong>Planerat avbrott</strong>' in page


def test_the_database_outage_page_reads_no_notice(notice, django_assert_num_queries):
    request = RequestFactory().get("/")
    try:
        raise OperationalError("gone")
    except OperationalError:
        with django_assert_num_queries(0):
            response = views.server_error(request)
    assert response.status_code == 503
    assert "Planerat avbrott" not in response.content.decode()


def test_a_failing_notice_read_still_gives_the_error_page(notice, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("broken")

    monkeypatch.setattr("core.context_processors._active_notices_sql", broken)
    response = views.page_not_found(RequestFactory().get("/finns-inte/"))
    assert response.status_code == 404
    assert "Planerat avbrott" not in response.content.decode()
