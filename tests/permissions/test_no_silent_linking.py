"""No account takeover by e-mail: registering an address that already has a
teacher account links nothing until the account's owner proves the address
with a mailed code, in both directions between two huvudmän, and a
principal's own teacher account is never found by its e-mail address."""

import datetime
import json
import re
import threading

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User
from accounts.throttle import FREE_FAILURES
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.models import AuditEvent
from core.refusals import RefusalCode, Refused
from permissions import policy
from permissions.models import EmailCode, Membership, Subject
from permissions.services.codes import EMAIL_CODE_LIFETIME
from permissions.services.confirmations import email_code_redeem
from permissions.services.memberships import (
    membership_register,
    membership_register_self,
    membership_remove,
)
from schools.models import PrincipalAssignment
from tests.conftest import SCHOOL_DAY, deliver_mail, make_user, verify_session
from tests.fixtures.material import make_material

pytestmark = pytest.mark.django_db

EMAIL = "tove@larare.example"
NEW_PASSWORD = "toves-eget-losenord-2026"
CODE_PAGE = "/bedomningsportalen/kod/"


@pytest.fixture
def other_principal(other_school):
    """Principal of a school of another huvudman."""
    user = make_user("annanrektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=user, school_unit=other_school)
    return user


def register(
    school_unit, actor, email=EMAIL, codes=("MAT",), run=None, first_name="Tove", last_name="Lärare"
):
    def call():
        return membership_register(
            school_unit=school_unit,
            context=AuditContext(actor=actor, school_unit=school_unit),
            first_name=first_name,
            last_name=last_name,
            email=email,
            subjects=list(Subject.objects.filter(code__in=codes)),
            today=SCHOOL_DAY,
        )

    if run is None:
        registration = call()
    else:
        with run(execute=True):
            registration = call()
    deliver_mail()
    return registration


def mailed_code(mailoutbox) -> str:
    deliver_mail()
    body = mailoutbox[-1].body
    return re.search(r"Kod: ([A-Z0-9]{4}-[A-Z0-9]{4})", body).group(1)


def portal_session(username, password) -> Client:
    client = Client()
    response = client.post(
        "/bedomningsportalen/logga-in/", {"username": username, "password": password}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client


@pytest.fixture
def gymnasial_math(db):
    return make_material("gy-matte-prov", subject_code="MAT", level="gymnasial")


# --- The takeover of the issue, and its reverse ------------------------------------------


def test_a_school_that_registered_an_address_first_gets_nothing_of_the_next_school(
    principal,
    other_principal,
    other_school,
    gymnasium,
    gymnasial_math,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """School B (another huvudman) registers the teacher's address first and
    keeps the printed password; school A (a gymnasium) registers the same
    address. B must not read what only A's school form grants, nor may A's
    registration hand B anything else."""
    first = register(other_school, other_principal, codes=("GRGRMAT01",))
    kept_password = first.password
    second = register(gymnasium, principal, run=django_capture_on_commit_callbacks)
    assert second.user == first.user
    assert second.linked
    assert second.membership.confirmed_at is None
    # The confirmation code went to the account's address, not to either school.
    assert mailoutbox[-1].to == [EMAIL]
    code = mailed_code(mailoutbox)

    # B, with the password it printed, logs in as the teacher: A's material stays shut.
    b_as_teacher = portal_session(first.user.username, kept_password)
    url = f"/bedomningsportalen/material/{gymnasial_math.slug}/fil/"
    assert b_as_teacher.get(url).status_code == 403
    # Nor can B confirm in the teacher's name without the mailed code.
    with pytest.raises(Refused) as refused:
        email_code_redeem(
            username=first.user.username,
            code="AAAA-BBBB",
            new_password=NEW_PASSWORD,
            decline=False,
            context=AuditContext(),
        )
    assert refused.value.code == RefusalCode.CODE_WRONG
    # A cannot give the account a new password while it waits.
    a_client = verify_session(Client(), principal)
    teacher_url = f"/e-tjanster/skolor/{gymnasium.code}/larare/{first.user.username}/"
    assert a_client.post(teacher_url + "losenord/").status_code == 403
    assert "Väntar på lärarens bekräftelse" in a_client.get(teacher_url).content.decode()

    # The real teacher reads the mail and confirms with a password of their own.
    result = email_code_redeem(
        username=first.user.username,
        code=code,
        new_password=NEW_PASSWORD,
        decline=False,
        context=AuditContext(),
    )
    assert result.school_unit == gymnasium
    # B's printed password and B's session are gone; the teacher gets A's material.
    assert authenticate(username=first.user.username, password=kept_password) is None
    assert b_as_teacher.get(url).status_code == 403
    owner = portal_session(first.user.username, NEW_PASSWORD)
    assert owner.get(url).status_code == 200
    confirmed = AuditEvent.objects.get(action="membership_confirmed")
    assert confirmed.school_unit == gymnasium


def test_a_school_of_another_huvudman_cannot_take_over_a_teacher_registered_here(
    principal, other_principal, grundskola, other_school, mailoutbox
):
    """The reverse: the teacher belongs to A; B registers the same address."""
    mine = register(grundskola, principal, codes=("GRGRMAT01",))
    theirs = register(other_school, other_principal, codes=("GRGRENG01",))
    assert theirs.user == mine.user
    assert theirs.password is None  # B is shown no password …
    b_client = verify_session(Client(), other_principal)
    teacher_url = f"/e-tjanster/skolor/{other_school.code}/larare/{mine.user.username}/"
    assert b_client.post(teacher_url + "losenord/").status_code == 403  # … nor may make one
    assert b_client.post(teacher_url + "losenordskod/").status_code == 403
    # A's password still works and B's pending membership opens nothing.
    assert authenticate(username=mine.user.username, password=mine.password) == mine.user
    assert (
        not Membership.objects.filter(user=mine.user)
        .valid_on(SCHOOL_DAY)
        .filter(school_unit=other_school)
    )
    # Nor does it change anything at A: A's log tells of no other employer
    # before the teacher agrees, and A may still give its teacher a password.
    assert not AuditEvent.objects.filter(action="teacher_account_shared").exists()
    assert policy.can_regenerate_teacher_password(
        user=principal, membership=mine.membership, today=SCHOOL_DAY
    )


def test_a_principals_own_teacher_account_is_never_found_by_its_address(
    principal, other_principal, grundskola, other_school
):
    """Both orders: another school registering the principal's address first
    never becomes the principal's own account, and the principal's own
    account is never linked by another school typing the address."""
    planted = register(other_school, other_principal, email=principal.email)
    own = membership_register_self(
        school_unit=grundskola,
        context=AuditContext(actor=principal, school_unit=grundskola),
        today=SCHOOL_DAY,
    )
    assert own.user != planted.user
    assert own.user.etjanster_owner == principal
    assert not planted.user.memberships.filter(school_unit=grundskola).exists()
    assert planted.user.etjanster_owner is None


def test_another_school_typing_a_principals_address_never_links_the_own_account(
    principal, other_principal, grundskola, other_school
):
    own = membership_register_self(
        school_unit=grundskola,
        context=AuditContext(actor=principal, school_unit=grundskola),
        today=SCHOOL_DAY,
    )
    typed = register(other_school, other_principal, email=principal.email.upper(), codes=())
    assert typed.user != own.user
    assert typed.password is not None and not typed.linked
    assert not own.user.memberships.filter(school_unit=other_school).exists()
    assert authenticate(username=own.user.username, password=own.password) == own.user


def test_a_principal_of_two_schools_registers_the_same_own_account_at_the_second(
    principal, grundskola, gymnasium, mailoutbox
):
    first = membership_register_self(
        school_unit=grundskola,
        context=AuditContext(actor=principal, school_unit=grundskola),
        today=SCHOOL_DAY,
    )
    second = membership_register_self(
        school_unit=gymnasium,
        context=AuditContext(actor=principal, school_unit=gymnasium),
        today=SCHOOL_DAY,
    )
    assert second.user == first.user
    assert first.password and second.password is None
    # The owner registers itself: confirmed at once, no code to mail.
    assert second.membership.confirmed_at is not None
    assert not EmailCode.objects.exists()
    with pytest.raises(Refused):
        membership_register_self(
            school_unit=gymnasium,
            context=AuditContext(actor=principal, school_unit=gymnasium),
            today=SCHOOL_DAY,
        )


# --- The gate treats a waiting membership as nothing -----------------------------------


def test_a_waiting_membership_opens_nothing_anywhere_the_gate_looks(
    principal, other_principal, other_school, gymnasium, gymnasial_math
):
    first = register(other_school, other_principal, codes=("GRGRMAT01",))
    register(gymnasium, principal)
    user = first.user
    waiting = user.memberships.get(school_unit=gymnasium)
    assert not waiting.is_valid_on(SCHOOL_DAY)
    assert waiting not in Membership.objects.valid_on(SCHOOL_DAY)
    assert waiting not in Membership.objects.reactivatable(SCHOOL_DAY)
    assert waiting in Membership.objects.pending()
    access = policy.material_access(user=user, material=gymnasial_math, today=SCHOOL_DAY)
    assert not access.allowed
    listed = policy.with_material_access(
        materials=type(gymnasial_math).objects.filter(pk=gymnasial_math.pk),
        user=user,
        today=SCHOOL_DAY,
    ).get()
    assert listed.opens is False
    assert not policy.can_regenerate_teacher_password(
        user=principal, membership=waiting, today=SCHOOL_DAY
    )


# --- The mailed code ---------------------------------------------------------------------


@pytest.fixture
def waiting(
    principal,
    other_principal,
    other_school,
    gymnasium,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    register(other_school, other_principal, codes=("GRGRMAT01",))
    second = register(gymnasium, principal, run=django_capture_on_commit_callbacks)
    return second.membership, mailed_code(mailoutbox)


def redeem(username, code, *, decline=False, password=NEW_PASSWORD, context=None):
    return email_code_redeem(
        username=username,
        code=code,
        new_password=None if decline else password,
        decline=decline,
        context=context or AuditContext(),
    )


def test_a_registration_waiting_elsewhere_leaves_the_first_school_its_password_reset(
    waiting, other_principal, other_school
):
    """Another school typing the address must not take the teacher's own
    school's right to give a new password away: the waiting registration
    grants nothing, and confirming it makes the teacher choose a password."""
    membership, code = waiting
    own = membership.user.memberships.get(school_unit=other_school)
    assert policy.can_regenerate_teacher_password(
        user=other_principal, membership=own, today=SCHOOL_DAY
    )
    client = verify_session(Client(), other_principal)
    teacher_url = f"/e-tjanster/skolor/{other_school.code}/larare/{own.user.username}/"
    page = client.get(teacher_url).content.decode()
    assert "Nytt lösenord" in page
    assert "används också på en skola som du inte administrerar" not in page
    assert client.get(teacher_url + "losenord/").status_code == 200

    # Once the teacher confirms the other school, the account is shared.
    redeem(own.user.username, code)
    assert not policy.can_regenerate_teacher_password(
        user=other_principal, membership=own, today=SCHOOL_DAY
    )
    page = client.get(teacher_url).content.decode()
    assert "används också på en skola som du inte administrerar" in page
    assert client.get(teacher_url + "losenord/").status_code == 403


def test_the_teachers_other_schools_learn_of_the_link_when_the_teacher_confirms(
    waiting, other_school, gymnasium
):
    """PRIVACY: typing the address tells the teacher's schools nothing (not
    another employer, its principal or address); confirming tells each of
    them that the account is shared now, and where, by the teacher."""
    membership, code = waiting
    shared = AuditEvent.objects.filter(action=AuditAction.TEACHER_ACCOUNT_SHARED)
    assert not shared.exists()
    assert (
        not AuditEvent.objects.filter(school_unit=other_school)
        .exclude(actor_username="annanrektor")
        .exists()
    )
    redeem(membership.user.username, code)
    event = shared.get()
    assert event.school_unit == other_school
    assert event.actor_username == membership.user.username
    assert event.ip_address is None
    assert event.details == {"school_unit": gymnasium.code, "school_name": gymnasium.name}


def test_the_shared_event_names_the_teacher_whoever_is_logged_in_where_they_confirm(
    waiting, other_school, principal
):
    """The code page is open to anyone: a principal logged in on the computer
    where the teacher confirms is not named at the teacher's other schools."""
    membership, code = waiting
    redeem(
        membership.user.username,
        code,
        context=AuditContext(actor=principal, address="198.51.100.7"),
    )
    event = AuditEvent.objects.get(action=AuditAction.TEACHER_ACCOUNT_SHARED)
    assert (event.actor_username, event.ip_address) == (membership.user.username, None)


def test_bulk_slips_leave_out_waiting_teachers_and_say_so(
    principal, other_principal, other_school, gymnasium, teacher
):
    from permissions.models import Membership as M
    from tests.conftest import END_OF_YEAR

    confirmed = M.objects.create(user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR)
    first = register(other_school, other_principal)
    client, _page = register_by_page(gymnasium, principal, first_name="Gissad", last_name="Gäst")
    base = f"/e-tjanster/skolor/{gymnasium.code}/larare/"
    chosen = [confirmed.user.username, first.user.username]
    response = _bulk_print(client, base, chosen)
    assert response.headers["Content-Type"] == "application/pdf"
    after = client.get(base).content.decode()
    assert "1 markerad lärare fick ingen" in after


def _bulk_print(client, base: str, usernames: list[str], **kwargs):
    """Print the ticked teachers' slips: the choice, then its confirmation."""
    data = {"teacher": usernames, "action": "print"}
    page = client.post(base + "markerade/", data).content.decode()
    once = page.split('name="once" value="')[1].split('"')[0]
    return client.post(base + "markerade/", {**data, "confirm": "yes", "once": once}, **kwargs)


def test_a_declined_link_is_never_told_to_the_teachers_other_schools(waiting, other_school):
    membership, code = waiting
    redeem(membership.user.username, code, decline=True)
    assert not AuditEvent.objects.filter(action=AuditAction.TEACHER_ACCOUNT_SHARED).exists()
    assert (
        not AuditEvent.objects.filter(school_unit=other_school)
        .exclude(actor_username="annanrektor")
        .exists()
    )


def test_the_code_is_stored_only_as_a_keyed_hash(waiting):
    membership, code = waiting
    row = EmailCode.objects.get()
    assert code not in row.code_hash
    assert code.replace("-", "") not in row.code_hash
    assert row.membership == membership


def test_a_code_works_once(waiting):
    membership, code = waiting
    redeem(membership.user.username, code.lower().replace("-", " "))
    with pytest.raises(Refused) as refused:
        redeem(membership.user.username, code)
    assert refused.value.code == RefusalCode.CODE_USED


def test_an_expired_code_is_refused_and_nothing_changes(waiting):
    membership, code = waiting
    later = timezone.now() + EMAIL_CODE_LIFETIME + datetime.timedelta(minutes=1)
    with time_machine.travel(later), pytest.raises(Refused) as refused:
        redeem(membership.user.username, code)
    assert refused.value.code == RefusalCode.CODE_EXPIRED
    assert Membership.objects.get(pk=membership.pk).confirmed_at is None


def test_a_new_code_replaces_the_old_one(
    waiting, principal, gymnasium, mailoutbox, django_capture_on_commit_callbacks
):
    membership, old = waiting
    client = verify_session(Client(), principal)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/e-tjanster/skolor/{gymnasium.code}/larare/{membership.user.username}/ny-kod/"
        )
    assert response.status_code == 302
    new = mailed_code(mailoutbox)
    assert new != old
    with pytest.raises(Refused) as refused:
        redeem(membership.user.username, old)
    assert refused.value.code == RefusalCode.CODE_EXPIRED
    redeem(membership.user.username, new)
    assert Membership.objects.get(pk=membership.pk).confirmed_at is not None


def test_a_teachers_mailbox_gets_at_most_five_new_codes_an_hour(
    waiting, principal, gymnasium, mailoutbox, django_capture_on_commit_callbacks
):
    membership, _first = waiting
    client = verify_session(Client(), principal)
    url = f"/e-tjanster/skolor/{gymnasium.code}/larare/{membership.user.username}/ny-kod/"
    # The registration mailed the first code; four more may follow.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            assert client.post(url).status_code == 302
    fifth = mailed_code(mailoutbox)
    sent = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    deliver_mail()
    assert "För många koder har skickats till läraren" in response.content.decode()
    assert len(mailoutbox) == sent
    assert AuditEvent.objects.filter(action="email_code_sent").count() == 5
    # The refused request changed nothing: the last code sent still works.
    redeem(membership.user.username, fifth)
    assert Membership.objects.get(pk=membership.pk).confirmed_at is not None


def test_registering_withdrawing_and_registering_again_mails_at_most_five_codes_an_hour(
    principal,
    other_principal,
    other_school,
    gymnasium,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """Found by black-box walk 3: withdrawing and registering the address
    again mailed a code each time, without limit, to another school's
    teacher. Registrations count with "send the code again", from every
    school together; the sixth in an hour is refused and changes nothing."""
    register(other_school, other_principal)
    for _ in range(5):
        registration = register(gymnasium, principal, run=django_capture_on_commit_callbacks)
        membership_remove(membership=registration.membership, context=AuditContext(actor=principal))
    client = verify_session(Client(), principal)
    sent, events = len(mailoutbox), AuditEvent.objects.count()
    form = {"first_name": "Tove", "last_name": "Lärare", "email": EMAIL.upper()}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/e-tjanster/skolor/{gymnasium.code}/larare/ny/", form)
    deliver_mail()
    assert response.status_code == 200
    assert (
        f"För många bekräftelsekoder har skickats till {EMAIL} den senaste timmen"
        in response.content.decode()
    )
    assert len(mailoutbox) == sent
    assert AuditEvent.objects.count() == events
    assert not Membership.objects.live().filter(school_unit=gymnasium).exists()
    # An hour later the school may register the address again.
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1, minutes=1)):
        assert register(gymnasium, principal, run=django_capture_on_commit_callbacks).linked
    assert len(mailoutbox) == sent + 1


def test_wrong_codes_are_throttled_and_audited_like_passwords(waiting):
    membership, code = waiting
    username = membership.user.username
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(FREE_FAILURES):
            with pytest.raises(Refused) as refused:
                redeem(username, "ZZZZ-ZZZZ")
            assert refused.value.code == RefusalCode.CODE_WRONG
        # Now even the right code waits.
        with pytest.raises(Refused) as refused:
            redeem(username, code)
    assert refused.value.code == RefusalCode.THROTTLED
    assert AuditEvent.objects.filter(action="email_code_refused").count() == FREE_FAILURES
    assert Membership.objects.get(pk=membership.pk).confirmed_at is None
    # The throttle of codes is not the password's: the teacher still logs in.
    assert (
        Client()
        .post("/bedomningsportalen/logga-in/", {"username": username, "password": "x"})
        .status_code
        == 200
    )


def test_an_unknown_username_answers_like_a_wrong_code(waiting):
    with pytest.raises(Refused) as refused:
        redeem("finnsinte", "ABCD-EFGH")
    assert refused.value.code == RefusalCode.CODE_WRONG


def test_the_owner_may_decline(waiting, gymnasium):
    membership, code = waiting
    result = redeem(membership.user.username, code, decline=True)
    assert result.school_unit == gymnasium
    assert not Membership.objects.live().filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=membership.user_id).exists()  # the other school keeps it
    assert AuditEvent.objects.get(action="membership_declined").school_unit == gymnasium


def test_a_code_for_a_registration_the_school_withdrew_is_refused(waiting, principal):
    membership, code = waiting
    membership_remove(membership=membership, context=AuditContext(actor=principal))
    with pytest.raises(Refused) as refused:
        redeem(membership.user.username, code)
    assert refused.value.code == RefusalCode.CODE_EXPIRED


def test_a_weak_password_is_refused_and_the_code_stays_unused(waiting):
    membership, code = waiting
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        redeem(membership.user.username, code, password=membership.user.username)
    assert EmailCode.objects.get().used_at is None
    redeem(membership.user.username, code)


# --- The page ----------------------------------------------------------------------------


def test_the_page_confirms_and_the_teacher_logs_in_with_the_new_password(client, waiting):
    membership, code = waiting
    response = client.post(
        CODE_PAGE,
        {
            "username": membership.user.username,
            "code": code,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "confirm": "",
        },
        follow=True,
    )
    # On to the login page with the thanks only: nothing was lost, so no
    # "you were no longer logged in" and no way back to the code form.
    assert response.redirect_chain == [("/bedomningsportalen/logga-in/", 302)]
    said = [str(message) for message in response.context["messages"]]
    assert said == ["Tack. Nu är du lärare även på Testgymnasiet. Logga in med ditt nya lösenord."]
    assert "accounts_resume" not in client.session
    assert portal_session(membership.user.username, NEW_PASSWORD)


def test_the_teachers_account_page_lists_what_waits_for_confirmation(waiting, gymnasium):
    membership, _code = waiting
    client = Client()
    client.force_login(membership.user)
    page = client.get("/bedomningsportalen/konto/").content.decode()
    assert "Skolor som väntar på din bekräftelse" in page
    assert gymnasium.name in page
    assert f"{CODE_PAGE}?anvandarnamn={membership.user.username}" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # A NUL byte never reaches the form: BadInputMiddleware answers the 400 page.
        ({"code": "AB\x00D-EFGH"}, "Begäran kunde inte hanteras"),
        ({"code": "A" * 21}, "som mest 20 tecken"),
        ({"username": "x" * 151}, "som mest 150 tecken"),
        ({"code": ""}, "måste fyllas i"),
        ({"new_password2": "annat-losenord-2026"}, "De två nya lösenorden är olika"),
        ({"new_password1": "123", "new_password2": "123"}, "för kort"),
        ({"code": "\u202eABCD-EFGH"}, "Fel användarnamn eller kod"),
    ],
)
def test_bad_input_on_the_page_is_explained_never_a_500(client, waiting, data, message):
    membership, code = waiting
    form = {
        "username": membership.user.username,
        "code": code,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        **data,
    }
    response = client.post(CODE_PAGE, form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).confirmed_at is None


def test_declining_on_the_page_needs_no_password(client, waiting):
    membership, code = waiting
    response = client.post(
        CODE_PAGE, {"username": membership.user.username, "code": code, "decline": ""}, follow=True
    )
    assert response.redirect_chain == [("/bedomningsportalen/logga-in/", 302)]
    [said] = [str(message) for message in response.context["messages"]]
    assert said == "Du avböjde registreringen på Testgymnasiet. Den är borttagen."
    assert not Membership.objects.live().filter(pk=membership.pk).exists()


# --- The CSV import follows the same rule ------------------------------------------------


def test_an_imported_row_with_a_known_address_waits_for_confirmation(
    principal,
    other_principal,
    other_school,
    gymnasium,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    from tests.permissions.test_csv_import import apply

    existing = register(other_school, other_principal, codes=("GRGRMAT01",))
    imported = apply(
        principal, gymnasium, f"Tove;Lärare;{EMAIL};MAT\nNy;Person;ny@skola.example;MAT\n"
    )
    linked = existing.user.memberships.get(school_unit=gymnasium)
    assert linked.confirmed_at is None
    assert set(linked.subjects.values_list("code", flat=True)) == {"MAT"}
    assert [item.password is None for item in imported] == [True, False]
    deliver_mail()
    assert [mail.to for mail in mailoutbox] == [[EMAIL]]
    assert User.objects.get(email="ny@skola.example").memberships.get().confirmed_at is not None


# --- The race -----------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)
@pytest.mark.django_db(transaction=True)
def test_one_code_redeemed_twice_at_once_confirms_once(
    principal, other_principal, other_school, gymnasium, mailoutbox
):
    register(other_school, other_principal, codes=("GRGRMAT01",))
    register(gymnasium, principal)  # on_commit runs: a transactional test commits
    code = mailed_code(mailoutbox)
    username = User.objects.get(email=EMAIL).username
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(password):
        try:
            barrier.wait(timeout=10)
            redeem(username, code, password=password)
            outcomes.append("ok")
        except Refused as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(f"forsta-losenordet-{n}-2026",)) for n in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(map(str, outcomes)) == ["code_used", "ok"]
    assert AuditEvent.objects.filter(action="membership_confirmed").count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)
@pytest.mark.django_db(transaction=True)
def test_a_new_password_waits_for_a_confirmation_under_way_and_is_then_refused(
    principal, other_principal, other_school, gymnasium, mailoutbox
):
    """A waiting registration elsewhere leaves the teacher's school its right
    to a new password, and the teacher's confirmation ends it: a new password
    given while the confirmation is under way must come wholly before it or
    be refused, never overwrite the password the teacher is choosing."""
    import time

    from django.db import transaction

    from permissions.services.memberships import teacher_password_regenerate

    first = register(other_school, other_principal)
    register(gymnasium, principal)
    own = first.user.memberships.get(school_unit=other_school)
    locked = threading.Event()

    def confirm_slowly():
        # What `_email_code_redeem` does: lock the account, then confirm.
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=own.user_id)
                locked.set()
                time.sleep(0.5)
                Membership.objects.filter(user=own.user, school_unit=gymnasium).update(
                    confirmed_at=timezone.now()
                )
        finally:
            connection.close()

    thread = threading.Thread(target=confirm_slowly)
    thread.start()
    assert locked.wait(timeout=10)
    old_hash = User.objects.get(pk=own.user_id).password
    with pytest.raises(Refused):
        teacher_password_regenerate(
            membership=own,
            context=AuditContext(actor=other_principal, school_unit=other_school),
            today=SCHOOL_DAY,
        )
    thread.join(timeout=10)
    assert User.objects.get(pk=own.user_id).password == old_hash


def test_declining_or_withdrawing_a_waiting_registration_ends_no_session(waiting, principal):
    membership, code = waiting
    session = Client()
    session.force_login(membership.user)
    redeem(membership.user.username, code, decline=True)
    assert session.get("/bedomningsportalen/konto/").status_code == 200
    assert not AuditEvent.objects.filter(action="sessions_ended").exists()


# --- A waiting school learns nothing through the teacher and keeps nothing alive ---------


def test_a_waiting_school_sees_none_of_the_teachers_logins(
    principal, other_principal, other_school, gymnasium
):
    """The registering school B waits for the confirmation; the teacher's
    logins (with their client addresses) go to A's log only."""
    first = register(other_school, other_principal, codes=("GRGRMAT01",))
    register(gymnasium, principal)
    portal_session(first.user.username, first.password)
    Client().post(
        "/bedomningsportalen/logga-in/",
        {"username": first.user.username, "password": "fel-losenord-helt-enkelt"},
    )
    logins = AuditEvent.objects.filter(
        action__in=("login_succeeded", "login_failed"), target=first.user.username
    )
    assert {event.action for event in logins} == {"login_succeeded", "login_failed"}
    assert {event.school_unit for event in logins} == {other_school}


def test_a_waiting_school_is_not_told_the_teachers_other_schools(
    principal, other_principal, other_school, gymnasium
):
    first = register(other_school, other_principal, codes=("GRGRMAT01",))
    register(gymnasium, principal)
    page = (
        verify_session(Client(), principal)
        .get(f"/e-tjanster/skolor/{gymnasium.code}/larare/{first.user.username}/")
        .content.decode()
    )
    assert "Väntar på lärarens bekräftelse" in page
    assert "Andra skolor" not in page
    # The school that has the teacher is told nothing of a waiting registration either.
    page = (
        verify_session(Client(), other_principal)
        .get(f"/e-tjanster/skolor/{other_school.code}/larare/{first.user.username}/")
        .content.decode()
    )
    assert "Andra skolor" not in page
    assert "enda skola" in page


def test_removing_the_last_confirmed_membership_closes_the_account_despite_a_waiting_one(
    principal, other_principal, other_school, gymnasium
):
    """A registration still waiting for the teacher's confirmation must not
    keep a removed teacher's account alive for the waiting school: it is
    withdrawn, and the account is closed (restorable only by the school that
    removed it, then deleted)."""
    first = register(other_school, other_principal, codes=("GRGRMAT01",))
    register(gymnasium, principal)
    mine = first.user.memberships.get(school_unit=other_school)
    gone = membership_remove(
        membership=mine, context=AuditContext(actor=other_principal, school_unit=other_school)
    )
    assert gone is True
    account = User.objects.get(pk=first.user.pk)
    assert (account.is_active, account.removed_at is not None) == (False, True)
    assert not Membership.objects.live().filter(user_id=first.user.pk).exists()


# --- A waiting school learns no name through the address -------------------------------


def register_by_page(school_unit, principal, *, first_name, last_name, email=EMAIL):
    client = verify_session(Client(), principal)
    response = client.post(
        f"/e-tjanster/skolor/{school_unit.code}/larare/ny/",
        {"first_name": first_name, "last_name": last_name, "email": email, "subjects": ["MAT"]},
    )
    assert response.status_code == 200, response.content.decode()[:500]
    return client, response.content.decode()


def test_a_waiting_school_sees_the_name_it_typed_never_the_one_on_the_account(
    principal, other_principal, other_school, gymnasium, mailoutbox
):
    """Typing an address must not reveal the name another school stored on
    the account: every page, file and log line of the waiting school names
    the teacher as the school typed them, until the owner confirms."""
    first = register(other_school, other_principal, codes=("GRGRMAT01",))  # "Tove Lärare"
    username = first.user.username
    client, page = register_by_page(gymnasium, principal, first_name="Gissad", last_name="Gästsson")
    assert "Gissad Gästsson" in page
    assert "Tove" not in page
    base = f"/e-tjanster/skolor/{gymnasium.code}/"
    teacher_url = f"{base}larare/{username}/"

    listing = client.get(base + "larare/").content.decode()
    assert "Gästsson, Gissad" in listing and "Tove" not in listing
    # Sorted by the typed name too: "Gästsson" before "Holm", though "Lärare" is after.
    register(
        gymnasium, principal, email="holm@larare.example", first_name="Hanna", last_name="Holm"
    )
    listing = client.get(base + "larare/").content.decode()
    assert listing.index("Gästsson, Gissad") < listing.index("Holm, Hanna")
    listing = client.get(base + "larare/", {"sort": "-name"}).content.decode()
    assert listing.index("Holm, Hanna") < listing.index("Gästsson, Gissad")
    # The search looks for the typed name only: the account's name finds nothing.
    assert username not in client.get(base + "larare/", {"q": "Lärare"}).content.decode()
    assert username in client.get(base + "larare/", {"q": "Gästs"}).content.decode()
    detail = client.get(teacher_url).content.decode()
    assert "<h1>Gissad Gästsson</h1>" in detail and "Tove" not in detail
    log = client.get(base + "logg/").content.decode()
    assert "Gissad Gästsson" in log and "Tove" not in log
    csv = b"".join(client.post(base + "logg/csv/").streaming_content).decode()
    assert "Gissad Gästsson" in csv and "Tove" not in csv
    data = json.loads(client.post(teacher_url + "uppgifter/").content)
    assert (data["account"]["first_name"], data["account"]["last_name"]) == ("Gissad", "Gästsson")
    assert data["other_school_units"] is None

    # The school that has the teacher still sees the account's own name.
    theirs = verify_session(Client(), other_principal).get(
        f"/e-tjanster/skolor/{other_school.code}/larare/{username}/"
    )
    assert "<h1>Tove Lärare</h1>" in theirs.content.decode()

    # Confirmed: now the school knows the teacher, by the account's name.
    redeem(username, mailed_code(mailoutbox))
    membership = Membership.objects.get(user=first.user, school_unit=gymnasium)
    assert (membership.typed_first_name, membership.typed_last_name) == ("", "")
    assert "<h1>Tove Lärare</h1>" in client.get(teacher_url).content.decode()
    assert "Lärare, Tove" in client.get(base + "larare/").content.decode()
    log = client.get(base + "logg/").content.decode()
    assert "Tove Lärare" in log and "Gissad" not in log


def test_a_declined_link_keeps_the_typed_name_and_is_never_restored_past_the_teacher(
    principal, other_principal, other_school, gymnasium, mailoutbox
):
    """The log keeps the typed name. The declined link is not offered for
    restoring (that would undo the teacher's decision); the school may
    register the address again, which mails the teacher a new code."""
    first = register(other_school, other_principal, codes=("GRGRMAT01",))
    client, _page = register_by_page(gymnasium, principal, first_name="Gissad", last_name="Gäst")
    redeem(first.user.username, mailed_code(mailoutbox), decline=True)
    base = f"/e-tjanster/skolor/{gymnasium.code}/"
    log = client.get(base + "logg/").content.decode()
    assert "Gissad Gäst" in log and "Tove" not in log
    assert "Gissad Gäst" not in client.get(base + "larare-borttagna/").content.decode()
    declined = Membership.objects.get(user=first.user, school_unit=gymnasium)
    restore = client.post(base + f"larare-borttagna/{declined.pk}/aterstall/", follow=True)
    assert "Läraren har ännu inte bekräftat" in restore.content.decode()
    declined.refresh_from_db()
    assert declined.removed_at is not None

    deliver_mail()  # the school hears of the decline
    sent = len(mailoutbox)
    _client, page = register_by_page(gymnasium, principal, first_name="Gissad", last_name="Gäst")
    assert "kan återställas" not in page
    again = Membership.objects.live().get(user=first.user, school_unit=gymnasium)
    assert again.confirmed_at is None and again.pk != declined.pk
    deliver_mail()
    assert len(mailoutbox) == sent + 1


def test_the_huvudmans_log_names_a_waiting_teacher_as_its_school_typed(
    principal, other_principal, other_school, gymnasium, huvudman_staff, national_admin, mailoutbox
):
    """The huvudman's own log (list, event page, CSV) follows the school's
    rule; the national log names the account as it is."""
    first = register(other_school, other_principal, codes=("GRGRMAT01",))
    register_by_page(gymnasium, principal, first_name="Gissad", last_name="Gästsson")
    staff = verify_session(Client(), huvudman_staff)
    base = "/huvudman/audit/auditevent/"
    listing = staff.get(base).content.decode()
    assert f"Gissad Gästsson ({first.user.username})" in listing and "Tove" not in listing
    event = AuditEvent.objects.get(action="membership_registered", school_unit=gymnasium)
    page = staff.get(f"{base}{event.pk}/change/").content.decode()
    assert "Gissad Gästsson" in page and "Tove" not in page
    csv = b"".join(staff.post(base + "export/").streaming_content).decode()
    assert "Gissad Gästsson" in csv and "Tove" not in csv
    national = verify_session(Client(), national_admin).get("/admin/audit/auditevent/")
    assert f"Tove Lärare ({first.user.username})" in national.content.decode()

    # Confirmed at the huvudman's school: the account's own name.
    redeem(first.user.username, mailed_code(mailoutbox))
    listing = staff.get(base).content.decode()
    assert f"Tove Lärare ({first.user.username})" in listing and "Gissad" not in listing


def test_withdrawing_a_waiting_registration_says_nothing_of_other_schools(waiting, principal):
    membership, _code = waiting
    client = verify_session(Client(), principal)
    school, username = membership.school_unit.code, membership.user.username
    path = f"/e-tjanster/skolor/{school}/larare/{username}/ta-bort/"
    page = client.get(path).content.decode()
    assert "påverkas inte" in page
    assert "andra skolor" not in page
    done = client.post(path, {"confirm": "yes"}, follow=True)
    said = [str(message) for message in done.context["messages"]]
    assert said == ["Registreringen av Tove Lärare drogs tillbaka."]


def test_a_waiting_school_prints_no_slip_until_the_teacher_confirms(
    principal, other_principal, other_school, gymnasium, mailoutbox
):
    """Found by black-box walk 3: the waiting school printed a slip with the
    account's username, telling the teacher to ask "your principal" (the one
    who may not give a password) for a new one."""
    first = register(other_school, other_principal)
    username = first.user.username
    client, _page = register_by_page(gymnasium, principal, first_name="Gissad", last_name="Gäst")
    base = f"/e-tjanster/skolor/{gymnasium.code}/larare/"
    detail = client.get(f"{base}{username}/").content.decode()
    assert "Lapp utan lösenord" not in detail
    single = client.post(f"{base}{username}/lapp/", follow=True)
    bulk = _bulk_print(client, base, [username], follow=True)
    for response in (single, bulk):
        assert response.headers["Content-Type"].startswith("text/html")
        assert "En lapp utan lösenord kan skrivas ut först när läraren har bekräftat" in (
            response.content.decode()
        )

    redeem(username, mailed_code(mailoutbox))
    assert "Lapp utan lösenord" in client.get(f"{base}{username}/").content.decode()
    response = client.post(f"{base}{username}/lapp/")
    assert response.headers["Content-Type"] == "application/pdf"
