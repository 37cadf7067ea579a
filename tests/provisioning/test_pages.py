""" "Från skolans system" in E-tjänster: the principal's list of proposals,
approving all or some, and the automatic approval."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from audit.models import AuditEvent
from permissions.event_rows import event_rows
from permissions.handover import handover_read
from permissions.models import Membership
from provisioning.models import Proposal, SchoolSetting
from provisioning.sync import source_sync
from tests.conftest import SCHOOL_DAY, make_school, make_user, verify_session

pytestmark = pytest.mark.django_db


def page_url(school) -> str:
    return f"/e-tjanster/skolor/{school.code}/fran-skolans-system/"


@pytest.fixture
def synced(source, teacher):
    source_sync(source=source, today=SCHOOL_DAY)
    return source


def test_the_principal_sees_the_schools_proposals(principal_client, synced, grundskola):
    page = principal_client.get(page_url(grundskola)).content.decode()

    assert "Anna Andersson" in page and "anna.andersson@testkommun.se" in page
    assert "Bertil" not in page  # a proposal of the other school
    assert "GRGRMAT01 GRGRSVE01" in page


def test_the_page_reads_in_a_constant_number_of_queries(principal_client, synced, grundskola):
    with CaptureQueriesContext(connection) as few:
        principal_client.get(page_url(grundskola))
    for number in range(5):
        Proposal.objects.create(
            source=synced,
            school_unit=grundskola,
            person=synced.persons.create(ext_id=f"extra-{number}", email=f"x{number}@skola.se"),
            kind="new",
        )
    with CaptureQueriesContext(connection) as many:
        principal_client.get(page_url(grundskola))
    assert len(many) == len(few)


def test_approving_all_registers_the_new_teacher_and_names_the_source_in_the_log(
    principal_client, principal, synced, grundskola
):
    response = principal_client.post(page_url(grundskola), {"all": "1", "confirm": "yes"})

    assert response.status_code == 302
    anna = User.objects.get(email="anna.andersson@testkommun.se")
    assert Membership.objects.filter(user=anna, school_unit=grundskola).exists()
    assert not Proposal.objects.filter(school_unit=grundskola).exists()
    event = AuditEvent.objects.get(action="membership_registered", target=anna.username)
    (row,) = event_rows([event], school_unit=grundskola)
    assert row.actor.startswith("SS 12000 (")
    assert str(synced) in row.actor and "Rektor Testsson (rektor)" in row.actor


def test_approving_some_leaves_the_others(principal_client, synced, grundskola):
    anna = Proposal.objects.get(person__ext_id="p-anna")
    first = principal_client.post(page_url(grundskola), {"proposal": [anna.pk]})
    assert "Anna Andersson" in first.content.decode()  # the confirmation names her

    principal_client.post(page_url(grundskola), {"proposal": [anna.pk], "confirm": "yes"})

    assert list(
        Proposal.objects.filter(school_unit=grundskola).values_list("person__ext_id", flat=True)
    ) == ["p-larare"]


def test_the_principal_switches_automatic_approval(principal_client, synced, grundskola):
    principal_client.post(page_url(grundskola), {"auto_approve": "on"})

    assert SchoolSetting.objects.get(school_unit=grundskola).auto_approve
    assert AuditEvent.objects.filter(action="ss12000_auto_approve_changed").exists()


def test_a_test_administrator_may_not(client, test_admin, synced, grundskola):
    response = verify_session(client, test_admin).get(page_url(grundskola))

    assert response.status_code == 403


def test_another_schools_page_is_not_found(client, synced, other_school, grundskola):
    stranger = make_user("annanrektor", "principal")
    make_school("33333333", "Tredje skolan", other_school.huvudman, ["grundskola"]).principals.add(
        stranger
    )

    response = verify_session(client, stranger).get(page_url(grundskola))

    assert response.status_code == 404


def test_anonymous_is_sent_to_log_in(client, grundskola):
    response = client.get(page_url(grundskola))

    assert response.status_code == 302


def test_the_handover_lists_what_waits_for_the_principal(synced, grundskola):
    handover = handover_read(school_unit=grundskola, today=SCHOOL_DAY)

    assert len(handover.proposals) == 2
    assert any("Anna Andersson" in str(proposal) for proposal in handover.proposals)
