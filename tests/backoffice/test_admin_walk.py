"""What the walk found on the admin sites: "History" leads to the person's
events in the audit log; no empty "Recent actions" panel; one breadcrumb
for a principal's page."""

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from tests.conftest import verify_session


def test_history_of_a_person_is_their_events_in_the_audit_log(client, national_admin, teacher):
    admin = verify_session(client, national_admin)
    response = admin.get(f"/admin/accounts/user/{teacher.pk}/history/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/audit/auditevent/?q={teacher.username}"
    audit_record(action=AuditAction.LOGOUT, context=AuditContext(actor=teacher))
    log = admin.get(response["Location"]).content.decode()
    assert teacher.username in log


def test_history_of_a_missing_person_is_not_found(client, national_admin):
    admin = verify_session(client, national_admin)
    assert admin.get("/admin/accounts/user/999999/history/").status_code == 404


def test_neither_admin_start_page_has_the_empty_recent_actions_panel(
    client, national_admin, huvudman_staff
):
    assert (
        "recent-actions-module"
        not in verify_session(client, national_admin).get("/admin/").content.decode()
    )
    client.logout()
    assert (
        "recent-actions-module"
        not in verify_session(client, huvudman_staff).get("/huvudman/").content.decode()
    )


def test_a_principals_page_names_the_principal_once_in_the_breadcrumbs(
    client, huvudman_staff, principal
):
    page = verify_session(client, huvudman_staff).get(
        f"/huvudman/schools/principal/{principal.pk}/change/"
    )
    crumbs = page.content.decode().split('<div class="breadcrumbs">')[1].split("</div>")[0]
    assert crumbs.count(principal.get_full_name()) == 1
