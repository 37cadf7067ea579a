"""What one registered IdP must never do to another's people: answer for it,
describe it in its own metadata, or link through a registration its
teacher has not confirmed (found in review)."""

import base64
import re

import pytest

from federation import saml
from federation.models import FederatedIdentity, OutstandingRequest
from permissions.models import Membership
from schools.models import SchoolUnit
from tests.conftest import END_OF_YEAR, make_user
from tests.federation.idp import SchoolIdP
from tests.federation.test_saml_login import (
    logged_in_user_id,
    post_answer,
    refused_without_session,
    start,
)

OTHER = "https://idp.andra.se/saml"


@pytest.mark.django_db
def test_an_assertion_signed_by_another_registered_idp_is_refused_whatever_the_response_says(
    client, school_idp, other_huvudman, teacher
):
    FederatedIdentity.objects.create(
        idp=school_idp.registered, subject="kim@testkommun.se", user=teacher, proof="password"
    )
    attacker = SchoolIdP(OTHER)
    attacker.register(other_huvudman, eppn_scopes="andra.se")
    request_id = start(client, school_idp)
    answer = base64.b64decode(attacker.answer(request_id, eppn="kim@testkommun.se")).decode()
    # The Response's own Issuer (not signed) made to say the victim's IdP; the
    # assertion stays signed by, and issued by, the attacker's.
    forged = re.sub(rf">{re.escape(OTHER)}<", f">{school_idp.entity_id}<", answer, count=1)
    assert forged != answer
    page = post_answer(client, base64.b64encode(forged.encode()).decode())
    refused_without_session(client, page, "WrongIssuer")


@pytest.mark.django_db
def test_metadata_that_also_describes_another_idp_is_refused(school_idp):
    attacker = SchoolIdP(OTHER)

    def inner(xml: str) -> str:
        return re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)

    both = (
        '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
        f"{inner(attacker.metadata())}{inner(school_idp.metadata())}</md:EntitiesDescriptor>"
    )
    assert saml.metadata_parses(attacker.metadata(), OTHER)
    assert not saml.metadata_parses(both, OTHER)


@pytest.mark.django_db
def test_trusted_email_needs_a_registration_the_teacher_confirmed(
    client, huvudman, other_huvudman, grundskola
):
    # A teacher of the other huvudman, whom a principal here has registered
    # by e-mail: that registration waits for the teacher.
    elsewhere = SchoolUnit.objects.create(
        code="99999999", name="Andra skolan", huvudman=other_huvudman
    )
    kim = make_user("kim", "teacher")
    Membership.objects.create(user=kim, school_unit=elsewhere, valid_until=END_OF_YEAR)
    Membership.objects.create(
        user=kim, school_unit=grundskola, valid_until=END_OF_YEAR, confirmed_at=None
    )
    idp = SchoolIdP()
    idp.register(huvudman, trust_email=True)
    page = post_answer(client, idp.answer(start(client, idp), mail="kim@example.se"))
    assert page["Location"] == "/logga-in/skolkonto/bekrafta/"
    assert not FederatedIdentity.objects.exists()
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_a_link_left_on_a_removed_account_gives_way_to_the_new_one(client, huvudman, teacher):
    removed = make_user("borta", "teacher", removed_at="2026-11-30T12:00:00+00:00", is_active=False)
    idp = SchoolIdP()
    registered = idp.register(huvudman, trust_email=True)
    FederatedIdentity.objects.create(
        idp=registered, subject="kim@testkommun.se", user=removed, proof="password"
    )
    page = post_answer(client, idp.answer(start(client, idp), mail="larare@example.se"))
    assert page["Location"] == "/bedomningsportalen/"
    assert FederatedIdentity.objects.get().user == teacher


@pytest.mark.django_db
def test_a_next_path_too_long_to_keep_is_dropped_not_a_500(client, school_idp):
    start(client, school_idp, next="/" + "a" * 600)
    assert OutstandingRequest.objects.get().next_path == ""
