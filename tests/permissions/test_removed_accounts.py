"""A last removal closes the account for 30 days ("borttagen"), restorable by
its school with its subjects, then `purge_removed_accounts` deletes it."""

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User
from audit.context import AuditContext
from audit.models import AuditEvent
from core.refusals import REFUSAL_MESSAGES, RefusalCode, Refused
from permissions.imports.parse import SubjectMode
from permissions.imports.plan import plan_import
from permissions.models import EmailCode, Membership
from permissions.schoolyear import today
from permissions.services.memberships import (
    membership_register,
    membership_register_self,
    membership_remove,
    membership_restore,
)
from tests.conftest import make_user, verify_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def removed(teacher, principal, grundskola):
    membership = teacher.memberships.get(school_unit=grundskola)
    context = AuditContext(actor=principal, school_unit=grundskola)
    assert membership_remove(membership=membership, context=context) is True
    teacher.refresh_from_db()
    membership.refresh_from_db()
    return membership


def test_the_last_removal_closes_the_account_and_its_sessions(
    client, teacher, principal, grundskola
):
    client.force_login(teacher)
    membership = teacher.memberships.get(school_unit=grundskola)
    membership_remove(membership=membership, context=AuditContext(actor=principal))
    teacher.refresh_from_db()
    assert (teacher.is_active, teacher.removed_at is not None) == (False, True)
    assert client.get("/bedomningsportalen/konto/").status_code == 302
    events = set(
        AuditEvent.objects.filter(school_unit=grundskola, target="larare").values_list(
            "action", flat=True
        )
    )
    assert {"membership_removed", "account_removed", "sessions_ended"} <= events
    assert "account_deleted" not in events


def test_a_removed_account_logs_in_as_an_unknown_username_would(removed, teacher):
    client = Client()
    response = client.post(
        "/en/bedomningsportalen/logga-in/",
        {"username": "larare", "password": "larare-password-1234"},
    )
    unknown = Client().post(
        "/en/bedomningsportalen/logga-in/",
        {"username": "nobody-here", "password": "larare-password-1234"},
    )
    assert response.status_code == unknown.status_code
    assert "deactivated" not in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_restoring_brings_back_the_account_with_its_subjects(
    removed, teacher, principal, grundskola
):
    membership_restore(
        membership=removed,
        context=AuditContext(actor=principal, school_unit=grundskola),
        now=timezone.now(),
    )
    teacher.refresh_from_db()
    removed.refresh_from_db()
    assert (teacher.is_active, teacher.removed_at, removed.removed_at) == (True, None, None)
    assert set(removed.subjects.values_list("code", flat=True)) == {"GRGRMAT01", "GRGRSVE01"}
    assert AuditEvent.objects.filter(action="account_restored", school_unit=grundskola).exists()
    response = Client().post(
        "/bedomningsportalen/logga-in/",
        {"username": "larare", "password": "larare-password-1234"},
    )
    assert response.status_code == 302


def test_the_removed_teachers_page_offers_the_closed_account(removed, principal, grundskola):
    client = verify_session(Client(), principal)
    page = client.get(f"/e-tjanster/skolor/{grundskola.code}/larare-borttagna/").content.decode()
    assert "Larare Testsson" in page
    assert f"/larare-borttagna/{removed.pk}/aterstall/" in page
    response = client.post(
        f"/e-tjanster/skolor/{grundskola.code}/larare-borttagna/{removed.pk}/aterstall/"
    )
    assert response.status_code == 302
    assert User.objects.get(username="larare").is_active


def test_nobody_links_a_removed_account_and_its_school_is_told_to_restore(
    removed, teacher, principal, grundskola, other_school
):
    context = AuditContext(actor=principal, school_unit=grundskola)
    with pytest.raises(Refused) as refusal:
        membership_register(
            school_unit=grundskola,
            context=context,
            first_name="L",
            last_name="T",
            email=teacher.email,
            subjects=[],
            today=today(),
        )
    assert refusal.value.code == RefusalCode.RESTORABLE
    # Another school gets a new account: the removed one is nobody's to link.
    other = membership_register(
        school_unit=other_school,
        context=AuditContext.system(),
        first_name="L",
        last_name="T",
        email=teacher.email,
        subjects=[],
        today=today(),
    )
    assert other.password is not None and other.user.pk != teacher.pk
    # One person, one account: the old one can no longer come back.
    with pytest.raises(Refused) as refusal:
        membership_restore(membership=removed, context=context, now=timezone.now())
    assert refusal.value.code == RefusalCode.ADDRESS_TAKEN


def test_removal_withdraws_registrations_waiting_elsewhere_and_stops_codes(
    teacher, principal, grundskola, gymnasium
):
    pending = membership_register(
        school_unit=gymnasium,
        context=AuditContext.system(),
        first_name="L",
        last_name="T",
        email=teacher.email,
        subjects=[],
        today=today(),
    ).membership
    assert pending.is_pending
    membership_remove(
        membership=teacher.memberships.get(school_unit=grundskola),
        context=AuditContext(actor=principal),
    )
    pending.refresh_from_db()
    assert pending.removed_at is not None
    assert not EmailCode.objects.filter(user=teacher, expires_at__gt=timezone.now()).exists()


def test_the_purge_deletes_accounts_removed_more_than_thirty_days_ago(removed, teacher, grundskola):
    keep = make_user("kvar", Role.TEACHER)
    Membership.objects.create(user=keep, school_unit=grundskola, valid_until=removed.valid_until)
    out = StringIO()
    call_command("purge_removed_accounts", "--json", stdout=out)
    assert json.loads(out.getvalue())["deleted"] == 0
    User.objects.filter(pk=teacher.pk).update(
        removed_at=timezone.now() - datetime.timedelta(days=30, minutes=1)
    )
    out = StringIO()
    call_command("purge_removed_accounts", "--json", stdout=out)
    assert json.loads(out.getvalue())["deleted"] == 1
    assert not User.objects.filter(pk=teacher.pk).exists()
    assert User.objects.filter(pk=keep.pk).exists()
    deleted = AuditEvent.objects.get(action="account_deleted", target="larare")
    assert deleted.school_unit == grundskola


def test_registering_oneself_again_brings_back_ones_own_removed_account(principal, grundskola):
    context = AuditContext(actor=principal, school_unit=grundskola)
    own = membership_register_self(school_unit=grundskola, context=context, today=today())
    membership_remove(membership=own.membership, context=context)
    own.user.refresh_from_db()
    assert own.user.removed_at is not None
    again = membership_register_self(school_unit=grundskola, context=context, today=today())
    again.user.refresh_from_db()
    assert (again.user.pk, again.user.is_active) == (own.user.pk, True)


def test_a_csv_file_with_a_removed_accounts_address_points_to_restore(removed, grundskola):
    plan = plan_import(
        school_unit=grundskola,
        text="Förnamn;Efternamn;E-post;Ämnen\nLara;Re;LARARE@example.se;GRGRMAT01\n",
        mode=SubjectMode.ADD,
    )
    (row,) = plan.errors
    assert str(REFUSAL_MESSAGES[RefusalCode.RESTORABLE]) % {"email": row.email} in row.errors
