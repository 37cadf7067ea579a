"""A sync against the test SS 12000 server: first, again, incremental, and
what the source's changes become (proposals, and after approval, memberships)."""

from django.core import mail
from django.db import connection

from accounts.models import User
from audit.context import AuditContext
from audit.models import AuditEvent
from core.outbox import OutboxMessage
from permissions.models import Membership
from provisioning import apply as apply_module
from provisioning.apply import proposals_apply
from provisioning.models import (
    MirroredDuty,
    MirroredPerson,
    Proposal,
    ProposalKind,
    SchoolSetting,
)
from provisioning.sources import source_save
from provisioning.sync import source_sync
from tests.conftest import SCHOOL_DAY, deliver_mail


def sync(source, **options):
    return source_sync(source=source, today=SCHOOL_DAY, **options)


def proposals(school_unit=None) -> dict[str, Proposal]:
    rows = Proposal.objects.select_related("person")
    if school_unit is not None:
        rows = rows.filter(school_unit=school_unit)
    return {p.person.ext_id: p for p in rows}


def approve_all(school_unit, actor=None):
    return proposals_apply(
        school_unit=school_unit,
        proposal_ids=list(
            Proposal.objects.filter(school_unit=school_unit).values_list("pk", flat=True)
        ),
        context=AuditContext(actor=actor),
        today=SCHOOL_DAY,
    )


def test_first_sync_proposes_the_teachers_of_our_units_and_ignores_the_rest(
    source, teacher, grundskola, gymnasium
):
    result = sync(source)

    by_school = {report.school: report.as_dict() for report in result.schools}
    assert by_school["11111111"] == {
        "school": "11111111",
        "new_teachers": 1,  # Anna
        "linked_existing": 1,  # the cast's teacher, already at the school by hand
        "subject_grants": 0,
        "proposed_removals": 0,
        "ignored": 1,  # Cecilia is Rektor
        "unknown_subject_codes": [],
    }
    assert by_school["22222222"]["new_teachers"] == 1
    assert by_school["22222222"]["unknown_subject_codes"] == ["XXOKAND01"]
    grund = proposals(grundskola)
    assert grund["p-anna"].kind == ProposalKind.NEW
    # One subject inline, one through its syllabus's id (/syllabuses).
    assert grund["p-anna"].subjects == ["GRGRMAT01", "GRGRSVE01"]
    assert grund["p-anna"].email == "anna.andersson@testkommun.se"  # the school's, not Privat
    assert grund["p-larare"].kind == ProposalKind.LINKED
    assert grund["p-larare"].subjects_removed == ["GRGRSVE01"]
    assert proposals(gymnasium)["p-bertil"].subjects == ["GRGRBIO01"]
    # Another huvudman's unit (99999999) and its teacher are not even stored.
    assert not MirroredPerson.objects.filter(ext_id="p-dora").exists()
    source.refresh_from_db()
    assert source.last_error == "" and source.last_success_at is not None


def test_only_the_gates_data_is_stored_never_a_civic_number_or_a_pupil(source):
    sync(source)

    stored = list(
        MirroredPerson.objects.values_list("ext_id", "given_name", "family_name", "email")
    )
    assert {row[0] for row in stored} == {"p-anna", "p-bertil", "p-larare"}
    assert "197001011234" not in repr(stored)
    assert "anna@privat.se" not in repr(stored)


def test_a_second_sync_with_nothing_new_proposes_nothing_new(source, ss12000):
    sync(source)
    before = {p.pk: p.signature() for p in Proposal.objects.all()}

    result = sync(source)

    assert {p.pk: p.signature() for p in Proposal.objects.all()} == before
    assert result.totals()["new_teachers"] == 3  # the cast's teacher is not in this test
    # The second pull asked only for what changed since the first.
    assert any("meta.modified.after" in entry["query"] for entry in ss12000.log())


def test_approved_proposals_become_memberships_and_a_resync_proposes_nothing(
    source, grundskola, gymnasium, principal, teacher
):
    sync(source)
    applied = approve_all(grundskola, actor=principal)
    approve_all(gymnasium, actor=principal)

    assert applied.registered == 1 and applied.linked == 1
    anna = User.objects.get(email="anna.andersson@testkommun.se")
    membership = Membership.objects.get(user=anna, school_unit=grundskola)
    assert membership.confirmed_at is not None
    assert sorted(membership.subjects.values_list("code", flat=True)) == ["GRGRMAT01", "GRGRSVE01"]
    assert sorted(
        Membership.objects.get(user=teacher, school_unit=grundskola).subjects.values_list(
            "code", flat=True
        )
    ) == ["GRGRMAT01"]
    # The new teachers' slips, with their passwords, go to their school e-mail
    # (the mail worker renders the PDFs).
    assert OutboxMessage.objects.count() == 2  # Anna and Bertil
    deliver_mail()
    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {"anna.andersson@testkommun.se", "bertil.berg@testkommun.se"}
    assert (
        sent["anna.andersson@testkommun.se"].attachments[0][0] == f"inloggning-{anna.username}.pdf"
    )
    event = AuditEvent.objects.filter(action="membership_registered", target=anna.username).get()
    assert event.actor_username == principal.username
    assert event.details["ss12000_source"] == str(source)

    result = sync(source)

    assert result.totals() == {
        "new_teachers": 0,
        "linked_existing": 0,
        "subject_grants": 0,
        "proposed_removals": 0,
        "ignored": 1,
    }
    assert not Proposal.objects.exists()


def test_a_renamed_person_is_the_same_person(source, ss12000, grundskola, principal):
    sync(source)
    approve_all(grundskola, actor=principal)
    anna = User.objects.get(email="anna.andersson@testkommun.se")
    ss12000.change(
        "persons",
        "p-anna",
        familyName="Gift",
        emails=[{"value": "anna.gift@testkommun.se", "type": "Skola personal"}],
    )
    ss12000.serve()

    sync(source)

    assert MirroredPerson.objects.get(ext_id="p-anna").user == anna
    assert not proposals(grundskola)  # no new teacher "Anna Gift"


def test_an_incremental_sync_proposes_a_new_subject(source, ss12000, grundskola, principal):
    sync(source)
    approve_all(grundskola, actor=principal)
    ss12000.data["activities"].append(
        {
            "id": "a-en",
            "displayName": "Engelska 7A",
            "organisation": {"id": "org-grund"},
            "teachers": [{"duty": {"id": "d-anna"}}],
            "syllabus": {"subjectCode": "GRGRENG01"},
            "meta": {"modified": "2099-01-01T00:00:00+00:00"},
        }
    )
    ss12000.serve()

    sync(source)

    (proposal,) = proposals(grundskola).values()
    assert proposal.kind == ProposalKind.SUBJECTS
    assert proposal.subjects_added == ["GRGRENG01"]
    approve_all(grundskola, actor=principal)
    anna = User.objects.get(email="anna.andersson@testkommun.se")
    assert "GRGRENG01" in Membership.objects.get(user=anna).subjects.values_list("code", flat=True)


def test_an_ended_duty_and_a_deleted_one_become_proposed_removals(
    source, ss12000, grundskola, gymnasium, principal
):
    sync(source)
    approve_all(grundskola, actor=principal)
    approve_all(gymnasium, actor=principal)
    ss12000.change("duties", "d-anna", endDate="2026-10-31")
    ss12000.data["deleted"] = {"duties": ["d-bertil"]}
    ss12000.serve()

    sync(source)

    assert proposals(grundskola)["p-anna"].kind == ProposalKind.REMOVAL
    assert proposals(gymnasium)["p-bertil"].kind == ProposalKind.REMOVAL
    assert MirroredDuty.objects.get(ext_id="d-bertil").deleted
    anna = User.objects.get(email="anna.andersson@testkommun.se")
    approve_all(grundskola, actor=principal)
    assert not Membership.objects.live().filter(user=anna).exists()


def test_removals_are_never_approved_automatically(source, ss12000, grundskola, principal):
    SchoolSetting.objects.create(school_unit=grundskola, auto_approve=True)
    result = sync(source)
    assert result.auto_applied == 2  # Anna registered, the cast's teacher tied
    assert Membership.objects.filter(user__email="anna.andersson@testkommun.se").exists()
    assert AuditEvent.objects.filter(
        action="membership_registered", actor_username="", details__ss12000_source=str(source)
    ).exists()
    ss12000.change("duties", "d-anna", endDate="2026-10-31")
    ss12000.serve()

    sync(source)

    assert proposals(grundskola)["p-anna"].kind == ProposalKind.REMOVAL
    assert Membership.objects.live().filter(user__email="anna.andersson@testkommun.se").exists()


def test_a_person_moving_school_is_removed_at_one_and_proposed_at_the_other(
    source, ss12000, grundskola, gymnasium, principal
):
    sync(source)
    approve_all(grundskola, actor=principal)
    ss12000.change("duties", "d-anna", dutyAt={"id": "org-gymn"})
    ss12000.serve()

    sync(source)

    assert proposals(grundskola)["p-anna"].kind == ProposalKind.REMOVAL
    moved = proposals(gymnasium)["p-anna"]
    assert moved.kind == ProposalKind.LINKED
    assert moved.user == User.objects.get(email="anna.andersson@testkommun.se")


def test_a_teacher_at_two_huvudman_is_linked_only_with_her_consent(
    source, ss12000, grundskola, other_school, principal
):
    ss12000.data["duties"].append(
        {
            "id": "d-anna-annan",
            "person": {"id": "p-anna"},
            "dutyAt": {"id": "org-annan"},
            "dutyRole": "Lärare",
        }
    )
    ss12000.serve()
    sync(source)
    approve_all(grundskola, actor=principal)
    other, _seen = source_save(
        huvudman=other_school.huvudman,
        context=AuditContext.system(),
        base_url=ss12000.url,
        token="test-token",
        check=False,
    )

    sync(other)
    approve_all(other_school)

    anna = User.objects.get(email="anna.andersson@testkommun.se")
    assert User.objects.filter(email="anna.andersson@testkommun.se").count() == 1
    elsewhere = Membership.objects.get(user=anna, school_unit=other_school)
    assert elsewhere.confirmed_at is None  # waits for Anna's own confirmation


def test_unknown_subject_codes_are_listed_never_granted(source, gymnasium, principal):
    sync(source)
    assert proposals(gymnasium)["p-bertil"].unknown_codes == ["XXOKAND01"]

    approve_all(gymnasium, actor=principal)

    bertil = Membership.objects.get(user__email="bertil.berg@testkommun.se")
    assert list(bertil.subjects.values_list("code", flat=True)) == ["GRGRBIO01"]


def test_a_dry_run_reports_and_changes_nothing(source):
    result = sync(source, dry_run=True)

    assert result.totals()["new_teachers"] == 3
    assert not Proposal.objects.exists() and not MirroredPerson.objects.exists()
    source.refresh_from_db()
    assert source.last_success_at is None


def test_a_server_answering_under_the_resources_name_is_read_too(source, ss12000):
    ss12000.serve(list_key="resource")

    assert sync(source).totals()["new_teachers"] == 3


def test_a_person_without_a_valid_school_email_or_with_anothers_is_ignored(
    source, ss12000, grundskola
):
    ss12000.change(
        "persons", "p-larare", emails=[{"value": "inte-en-adress", "type": "Skola personal"}]
    )
    ss12000.change(
        "persons",
        "p-cecilia",
        emails=[{"value": "anna.andersson@testkommun.se", "type": "Skola personal"}],
    )
    ss12000.change("duties", "d-cecilia", dutyRole="Lärare")
    ss12000.serve()

    result = sync(source)

    assert set(proposals(grundskola)) == {"p-anna"}
    assert {r.school: r.ignored for r in result.schools}["11111111"] == 2


def test_applying_takes_the_sources_lock_before_it_locks_the_proposals(
    source, grundskola, principal, monkeypatch
):
    # A sync holds the source's lock and then deletes proposals: applying must
    # take the locks in that order too, or the two deadlock on PostgreSQL.
    sync(source)
    read: list[str] = []
    locked: list[list[str]] = []

    def record(execute, sql, params, many, context):
        read.append(sql)
        return execute(sql, params, many, context)

    def lock(*keys):
        locked.append(list(read))

    monkeypatch.setattr(apply_module, "advisory_lock", lock)
    ids = list(Proposal.objects.values_list("pk", flat=True))
    with connection.execute_wrapper(record):
        proposals_apply(
            school_unit=grundskola,
            proposal_ids=ids,
            context=AuditContext(actor=principal),
            today=SCHOOL_DAY,
        )

    assert len(locked) == 1
    # Before the lock, only the sources' ids are read, never the rows themselves.
    assert all("DISTINCT" in sql for sql in locked[0] if "provisioning_proposal" in sql)
    assert any('"provisioning_proposal"."kind"' in sql for sql in read)
