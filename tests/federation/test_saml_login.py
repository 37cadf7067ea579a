"""Logging in with the school's account: pysaml2-crafted answers from a
school's IdP, posted to our ACS as the browser would."""

import base64
import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.services.cards import card_issue
from audit.context import AuditContext
from audit.models import AuditEvent
from federation.models import FederatedIdentity, OutstandingRequest, VerifiedLogin
from permissions.models import Membership
from tests.conftest import END_OF_YEAR, make_user, verify_session
from tests.federation.idp import PASSWORD_CONTEXT, SchoolIdP


@pytest.fixture
def school_idp(huvudman) -> SchoolIdP:
    idp = SchoolIdP()
    idp.registered = idp.register(huvudman)
    return idp


def start(client, idp: SchoolIdP, **params) -> str:
    """Click "Logga in" at the chosen IdP; the ID of the request sent to it."""
    response = client.get("/saml2/login/", {"idp": idp.entity_id, **params})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{idp.entity_id}/sso?SAMLRequest=")
    return OutstandingRequest.objects.latest("expires_at").request_id


def post_answer(client, answer: str):
    """The IdP's auto-posting form, then (if accepted) the browser's redirect."""
    response = client.post("/saml2/acs/", {"SAMLResponse": answer})
    if response.status_code != 303:
        return response
    return client.get(response["Location"])


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def federated_events(action: str):
    return AuditEvent.objects.filter(action=action, details__factor="school_account")


@pytest.mark.django_db
def test_metadata_is_signed_and_asks_for_signed_assertions_over_post(client, school_idp):
    xml = client.get("/saml2/metadata/").content.decode()
    assert "<ds:Signature" in xml or "Signature" in xml
    assert 'WantAssertionsSigned="true"' in xml
    assert 'AuthnRequestsSigned="true"' in xml
    assert "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" in xml
    assert "/saml2/acs/" in xml
    assert 'use="encryption"' in xml and 'use="signing"' in xml


@pytest.mark.django_db
def test_first_login_asks_for_the_password_once_then_the_school_account_is_enough(
    client, school_idp, teacher
):
    page = post_answer(client, school_idp.answer(start(client, school_idp)))
    assert page.status_code == 302 and page["Location"] == "/logga-in/skolkonto/bekrafta/"
    assert logged_in_user_id(client) is None
    confirm = client.get(page["Location"])
    assert "kim@testkommun.se" in confirm.content.decode()
    done = client.post(
        "/logga-in/skolkonto/bekrafta/", {"username": "larare", "password": "larare-password-1234"}
    )
    assert done.status_code == 302 and done["Location"] == "/bedomningsportalen/"
    assert logged_in_user_id(client) == str(teacher.pk)
    link = FederatedIdentity.objects.get()
    assert (link.user, link.subject, link.proof) == (teacher, "kim@testkommun.se", "password")
    linked = AuditEvent.objects.get(action="federated_identity_linked")
    assert linked.details["idp"] == school_idp.entity_id

    client.logout()
    again = post_answer(client, school_idp.answer(start(client, school_idp)))
    assert again.status_code == 302 and again["Location"] == "/bedomningsportalen/"
    assert logged_in_user_id(client) == str(teacher.pk)
    assert federated_events("login_succeeded").count() == 2


@pytest.mark.django_db
def test_a_wrong_password_links_nothing(client, school_idp, teacher):
    post_answer(client, school_idp.answer(start(client, school_idp)))
    page = client.post(
        "/logga-in/skolkonto/bekrafta/", {"username": "larare", "password": "wrong-password"}
    )
    assert page.status_code == 200
    assert not FederatedIdentity.objects.exists()
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_trusted_email_links_a_teacher_of_the_huvudman_directly(client, huvudman, teacher):
    idp = SchoolIdP()
    idp.register(huvudman, trust_email=True)
    page = post_answer(client, idp.answer(start(client, idp), mail="LARARE@example.se"))
    assert page["Location"] == "/bedomningsportalen/"
    assert FederatedIdentity.objects.get().proof == "trusted_email"
    assert logged_in_user_id(client) == str(teacher.pk)


@pytest.mark.django_db
def test_trusted_email_never_links_across_huvudmän(client, other_huvudman, teacher):
    idp = SchoolIdP("https://idp.andra.se/saml")
    idp.register(other_huvudman, trust_email=True, eppn_scopes="andra.se")
    page = post_answer(client, idp.answer(start(client, idp), eppn="kim@andra.se"))
    assert page["Location"] == "/logga-in/skolkonto/bekrafta/"
    assert not FederatedIdentity.objects.exists()
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_a_huvudman_that_drops_passwords_makes_the_linked_teacher_passwordless(
    client, huvudman, teacher
):
    idp = SchoolIdP()
    idp.register(huvudman, trust_email=True, teachers_keep_password=False)
    post_answer(client, idp.answer(start(client, idp)))
    teacher.refresh_from_db()
    assert not teacher.has_usable_password()
    assert (
        AuditEvent.objects.get(action="federated_identity_linked").details["password_kept"] is False
    )


@pytest.fixture
def linked_principal(principal, school_idp):
    FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="rektor@testkommun.se", user=principal, proof="password"
    )
    return principal


@pytest.mark.django_db
def test_a_principal_with_two_factors_reaches_etjanster(client, school_idp, linked_principal):
    from tests.conftest import verify_session  # noqa: F401 - the card comes from card_issue

    card_issue(user=linked_principal, context=AuditContext.system())
    page = post_answer(
        client, school_idp.answer(start(client, school_idp), eppn="rektor@testkommun.se")
    )
    assert page["Location"] == "/e-tjanster/"
    assert client.get("/e-tjanster/").status_code == 200
    event = federated_events("login_succeeded").get()
    assert event.details["two_factor"] is True and event.details["door"] == "etjanster"


@pytest.mark.django_db
def test_a_principal_with_one_factor_is_sent_to_password_and_card(
    client, school_idp, linked_principal
):
    page = post_answer(
        client,
        school_idp.answer(
            start(client, school_idp), eppn="rektor@testkommun.se", context=PASSWORD_CONTEXT
        ),
    )
    assert page.status_code == 403
    assert "/e-tjanster/logga-in/" in page.content.decode()
    assert logged_in_user_id(client) is None
    assert federated_events("login_failed").get().details["refused"] == "federation_no_mfa"
    assert client.get("/e-tjanster/").status_code == 302


def refused_without_session(client, page, reason: str | None = None):
    assert page.status_code in (400, 403)
    assert logged_in_user_id(client) is None
    assert not VerifiedLogin.objects.exists()
    event = federated_events("login_failed").latest("pk")
    if reason:
        assert event.details.get("reason") == reason, event.details
    return event


@pytest.mark.django_db
def test_a_tampered_answer_is_refused(client, school_idp, teacher):
    answer = school_idp.answer(start(client, school_idp))
    xml = base64.b64decode(answer).decode().replace("kim@testkommun.se", "larare@testkommun.se")
    page = post_answer(client, base64.b64encode(xml.encode()).decode())
    refused_without_session(client, page, "SignatureError")


@pytest.mark.django_db
def test_an_unsigned_answer_is_refused(client, school_idp, teacher):
    page = post_answer(client, school_idp.answer(start(client, school_idp), signed=False))
    refused_without_session(client, page, "SignatureError")


@pytest.mark.django_db
def test_an_expired_answer_is_refused(client, school_idp, teacher):
    request_id = start(client, school_idp)
    with time_machine.travel(timezone.now() - datetime.timedelta(minutes=10), tick=False):
        answer = school_idp.answer(request_id)
    refused_without_session(client, post_answer(client, answer), "ResponseLifetimeExceed")


@pytest.mark.django_db
def test_an_answer_for_another_audience_is_refused(client, school_idp, teacher):
    answer = school_idp.answer(start(client, school_idp), audience="https://other-sp.example/")
    event = refused_without_session(client, post_answer(client, answer))
    assert "AudienceRestrictions" in event.details["reason"]


@pytest.mark.django_db
def test_an_answer_to_no_request_of_ours_is_refused(client, school_idp, teacher):
    start(client, school_idp)
    page = post_answer(client, school_idp.answer("id-made-up"))
    refused_without_session(client, page, "UnsolicitedResponse")


@pytest.mark.django_db
def test_a_replayed_answer_is_refused_also_with_a_new_request(client, school_idp, teacher):
    FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="kim@testkommun.se", user=teacher, proof="password"
    )
    answer = school_idp.answer(start(client, school_idp))
    assert post_answer(client, answer)["Location"] == "/bedomningsportalen/"
    client.logout()
    # The same answer again: its request was answered already.
    refused_without_session(client, post_answer(client, answer), "UnsolicitedResponse")


@pytest.mark.django_db
def test_an_assertion_id_is_accepted_once_on_every_server(client, school_idp, teacher):
    request_id = start(client, school_idp)
    request = OutstandingRequest.objects.get(pk=request_id)
    answer = school_idp.answer(request_id)
    assert post_answer(client, answer).status_code == 302
    # Another app server that (somehow) still held the request: the seen
    # assertion IDs are in the shared database, so the answer counts once.
    request.save()
    client.logout()
    page = post_answer(client, answer)
    assert refused_without_session(client, page, "AssertionSeen").details["refused"] == (
        "federation_replayed"
    )


@pytest.mark.django_db
def test_the_login_finishes_only_in_the_browser_that_started_it(client, school_idp, teacher):
    FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="kim@testkommun.se", user=teacher, proof="password"
    )
    posted = client.post(
        "/saml2/acs/", {"SAMLResponse": school_idp.answer(start(client, school_idp))}
    )
    victim = Client()
    page = victim.get(posted["Location"])
    assert page.status_code == 403
    assert victim.session.get("_auth_user_id") is None
    assert federated_events("login_failed").get().details["reason"] == "OtherBrowser"
    # Used up: not even the right browser finishes it now.
    assert client.get(posted["Location"]).status_code == 403


@pytest.mark.django_db
def test_an_answer_without_an_eppn_in_scope_says_what_it_must_release(client, school_idp, teacher):
    page = post_answer(
        client, school_idp.answer(start(client, school_idp), eppn="kim@elsewhere.se")
    )
    assert page.status_code == 403
    text = page.content.decode()
    assert "eduPersonPrincipalName" in text and "/saml2/metadata/" in text
    event = refused_without_session(client, page)
    assert event.details["refused"] == "federation_attributes"
    assert event.huvudman_id == school_idp.registered.huvudman_id


@pytest.mark.django_db
def test_next_goes_only_to_our_own_paths(client, school_idp, teacher):
    FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="kim@testkommun.se", user=teacher, proof="password"
    )
    request_id = start(client, school_idp, next="https://evil.example/")
    assert OutstandingRequest.objects.get(pk=request_id).next_path == ""
    page = post_answer(client, school_idp.answer(request_id))
    assert page["Location"] == "/bedomningsportalen/"
    client.logout()
    page = post_answer(
        client, school_idp.answer(start(client, school_idp, next="/bedomningsportalen/konto/"))
    )
    assert page["Location"] == "/bedomningsportalen/konto/"


@pytest.mark.django_db
def test_an_unknown_idp_or_a_missing_answer_is_no_500(client, school_idp):
    assert client.get("/saml2/login/", {"idp": "https://nobody.example/"}).status_code == 302
    assert client.post("/saml2/acs/", {}).status_code == 400
    assert client.post("/saml2/acs/", {"SAMLResponse": "not base64 at all!"}).status_code == 403


@pytest.mark.django_db
def test_the_teacher_sees_and_removes_the_link(client, school_idp, teacher):
    link = FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="kim@testkommun.se", user=teacher, proof="password"
    )
    client.force_login(teacher)
    page = client.get("/bedomningsportalen/konto/").content.decode()
    assert "kim@testkommun.se" in page
    response = client.post(f"/bedomningsportalen/konto/skolkonto/{link.pk}/ta-bort/")
    assert response.status_code == 302
    assert not FederatedIdentity.objects.exists()
    assert AuditEvent.objects.filter(action="federated_identity_unlinked").exists()


@pytest.mark.django_db
def test_another_persons_link_is_404(client, school_idp, teacher, grundskola):
    other = make_user("annan", Role.TEACHER)
    Membership.objects.create(user=other, school_unit=grundskola, valid_until=END_OF_YEAR)
    link = FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="x@testkommun.se", user=other, proof="password"
    )
    client.force_login(teacher)
    assert client.post(f"/bedomningsportalen/konto/skolkonto/{link.pk}/ta-bort/").status_code == 404


@pytest.mark.django_db
def test_the_choice_finds_the_huvudman_by_a_school_and_remembers_it(client, school_idp, grundskola):
    page = client.get("/logga-in/skolkonto/", {"q": "Testskolan"}).content.decode()
    assert "Testkommun" in page
    client.get("/saml2/login/", {"idp": school_idp.entity_id})
    page = client.get("/logga-in/skolkonto/").content.decode()
    assert "Log in through Testkommun" in page or "Logga in via Testkommun" in page


@pytest.mark.django_db
def test_both_login_pages_offer_the_school_account_once_an_idp_is_registered(client, huvudman):
    assert (
        "/logga-in/skolkonto/" not in client.get("/bedomningsportalen/logga-in/").content.decode()
    )
    SchoolIdP().register(huvudman)
    for page in ("/bedomningsportalen/logga-in/", "/e-tjanster/logga-in/"):
        assert "/logga-in/skolkonto/" in client.get(page).content.decode()


@pytest.mark.django_db
def test_the_principal_sees_and_removes_a_teachers_link_a_test_admin_may_not(
    client, school_idp, teacher, principal, test_admin, grundskola
):
    link = FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="kim@testkommun.se", user=teacher, proof="password"
    )
    page_url = f"/e-tjanster/skolor/{grundskola.code}/larare/{teacher.username}/"
    remove_url = f"{page_url}skolkonto/{link.pk}/ta-bort/"
    verify_session(client, test_admin)
    assert "kim@testkommun.se" in client.get(page_url).content.decode()
    assert client.post(remove_url).status_code == 403
    client.logout()
    verify_session(client, principal)
    assert client.post(remove_url).status_code == 302
    assert not FederatedIdentity.objects.exists()
    event = AuditEvent.objects.get(action="federated_identity_unlinked")
    assert event.school_unit_id == grundskola.pk and event.actor_id == principal.pk


@pytest.mark.django_db
def test_a_huvudman_switching_later_takes_the_password_at_the_next_login(
    client, school_idp, teacher
):
    FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="kim@testkommun.se", user=teacher, proof="password"
    )
    school_idp.registered.teachers_keep_password = False
    school_idp.registered.save()
    assert post_answer(client, school_idp.answer(start(client, school_idp)))["Location"] == (
        "/bedomningsportalen/"
    )
    teacher.refresh_from_db()
    assert not teacher.has_usable_password()
    assert AuditEvent.objects.get(action="password_changed").details["password_kept"] is False
    # The session that just logged in stays (the hash it holds is the new one).
    assert client.get("/bedomningsportalen/konto/").status_code == 200
