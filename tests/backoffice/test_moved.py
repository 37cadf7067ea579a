"""Admin addresses of models that moved to another app lead to their new address."""

import pytest

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from tests.conftest import verify_session


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/permissions/auditevent/", "/admin/audit/auditevent/"),
        ("/admin/portal/sitenotice/add/", "/admin/core/sitenotice/add/"),
        ("/admin/accounts/outboxmessage/", "/admin/core/outboxmessage/"),
        ("/huvudman/permissions/auditevent/", "/huvudman/audit/auditevent/"),
        ("/en/admin/permissions/auditevent/", "/en/admin/audit/auditevent/"),
    ],
)
def test_a_bookmark_of_a_moved_admin_page_leads_to_its_new_address(client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new


def test_the_redirect_keeps_the_query_and_the_object(client, national_admin):
    event = audit_record(action=AuditAction.LOGOUT, context=AuditContext.system(), target="x")
    response = client.get(f"/admin/permissions/auditevent/{event.pk}/change/?a=1&b=2")
    assert response["Location"] == f"/admin/audit/auditevent/{event.pk}/change/?a=1&b=2"
    page = verify_session(client, national_admin).get(response["Location"])
    assert page.status_code == 200
    assert "Utloggad" in page.content.decode()


def test_only_the_moved_models_are_redirected(client):
    # Anything else under the old app is the admin's own answer (the login first).
    response = client.get("/admin/permissions/auditeventx/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_huvudman_sites_old_section_page_leads_to_the_audit_section(client):
    response = client.get("/huvudman/permissions/")
    assert response.status_code == 301
    assert response["Location"] == "/huvudman/audit/"
    # /admin/permissions/ still exists (subjects, the level policy): no redirect.
    assert client.get("/admin/permissions/").status_code == 302
