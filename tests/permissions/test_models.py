import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from permissions.models import LevelPolicy, Membership, Subject, SubjectGrant

pytestmark = pytest.mark.django_db


def test_subject_catalogue_is_seeded_with_both_levels():
    assert Subject.objects.filter(level="grundskola").count() >= 15
    assert Subject.objects.filter(level="gymnasial").count() >= 15
    assert Subject.objects.get(code="GRGRMAT01").name == "Matematik"


def test_policy_is_seeded_with_todays_rule():
    reaches = {(rule.school_form_id, rule.level) for rule in LevelPolicy.objects.all()}
    assert ("grundskola", "grundskola") in reaches
    assert ("anpassad_grundskola", "grundskola") in reaches
    assert ("gymnasieskola", "gymnasial") in reaches
    assert ("kommunal_vuxenutbildning", "gymnasial") in reaches
    assert ("gymnasieskola", "grundskola") not in reaches
    assert ("kommunal_vuxenutbildning", "grundskola") not in reaches


def test_a_policy_rule_exists_once():
    with pytest.raises(IntegrityError), transaction.atomic():
        LevelPolicy.objects.create(school_form_id="grundskola", level="grundskola")


def test_a_subject_is_granted_once_per_membership(teacher):
    membership = teacher.memberships.get()
    subject = membership.subjects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        SubjectGrant.objects.create(membership=membership, subject=subject)


def test_one_live_membership_per_teacher_and_school(teacher, grundskola):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=teacher, school_unit=grundskola, valid_until=datetime.date(2027, 7, 31)
        )


def test_a_removed_membership_does_not_block_a_new_one(teacher, grundskola):
    teacher.memberships.update(removed_at=timezone.now())
    Membership.objects.create(
        user=teacher, school_unit=grundskola, valid_until=datetime.date(2027, 7, 31)
    )
    assert teacher.memberships.count() == 2


def test_unknown_level_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Subject.objects.create(code="XYZ", name="Påhittat", level="universitet")


# --- The membership's life, spelled once (queryset methods) ----------------------------


def test_membership_querysets_follow_removal_validity_and_the_school_year(teacher, gymnasium):
    current = teacher.memberships.get()  # valid until 31 July 2027
    old = Membership.objects.create(
        user=teacher, school_unit=gymnasium, valid_until=datetime.date(2026, 7, 31)
    )
    last_day = datetime.date(2027, 7, 31)
    first_day = datetime.date(2027, 8, 1)

    assert set(Membership.objects.live()) == {current, old}
    assert set(Membership.objects.valid_on(last_day)) == {current}
    assert set(Membership.objects.valid_on(first_day)) == set()
    assert set(Membership.objects.expired_on(last_day)) == {old}
    # Reactivation opens when the school year the validity belongs to is over.
    assert set(Membership.objects.reactivatable(last_day)) == {old}
    assert set(Membership.objects.reactivatable(first_day)) == {current, old}

    Membership.objects.filter(pk=old.pk).update(removed_at=timezone.now())
    assert set(Membership.objects.live()) == {current}
    assert set(Membership.objects.expired_on(last_day)) == set()
    assert set(Membership.objects.reactivatable(first_day)) == {current}
