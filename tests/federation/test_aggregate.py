"""A federation's signed metadata aggregate is loaded only when its
signature verifies with the federation's certificate (pysaml2, xmlsec1)."""

import pytest

from core.refusals import RefusalCode, Refused
from federation.aggregate import aggregate_load
from tests.federation.aggregate import TestFederation
from tests.federation.idp import SchoolIdP

pytestmark = pytest.mark.django_db

OTHER_IDP = "https://idp.annankommun.se/saml"


@pytest.fixture(scope="module")
def federation() -> TestFederation:
    return TestFederation()


@pytest.fixture
def idps() -> list[SchoolIdP]:
    return [SchoolIdP(), SchoolIdP(OTHER_IDP)]


def refused(**kwargs) -> RefusalCode:
    with pytest.raises(Refused) as refusal:
        aggregate_load(**kwargs)
    return refusal.value.code


def test_a_signed_aggregate_lists_its_identity_providers_with_their_scopes(federation, idps):
    xml = federation.aggregate(idps, scopes={idps[0].entity_id: "testkommun.se"})
    text, found = aggregate_load(certificate=federation.certificate, xml=xml)
    assert text == xml
    by_id = {idp.entity_id: idp for idp in found}
    assert set(by_id) == {idps[0].entity_id, OTHER_IDP}
    assert by_id[idps[0].entity_id].scopes == ("testkommun.se",)
    assert by_id[OTHER_IDP].scopes == ()
    assert OTHER_IDP in by_id[OTHER_IDP].metadata_xml


def test_another_certificate_is_refused(federation, idps):
    xml = federation.aggregate(idps)
    other = TestFederation("other.test")
    assert refused(certificate=other.certificate, xml=xml) == RefusalCode.AGGREGATE_SIGNATURE


def test_an_aggregate_signed_by_someone_else_is_refused(federation, idps):
    xml = TestFederation("other.test").aggregate(idps)
    assert refused(certificate=federation.certificate, xml=xml) == RefusalCode.AGGREGATE_SIGNATURE


def test_a_changed_aggregate_is_refused(federation, idps):
    xml = federation.aggregate(idps).replace("idp.annankommun.se", "idp.evil.example")
    assert refused(certificate=federation.certificate, xml=xml) == RefusalCode.AGGREGATE_SIGNATURE


def test_an_unsigned_aggregate_is_refused(federation, idps):
    xml = federation.aggregate(idps, sign=False)
    assert refused(certificate=federation.certificate, xml=xml) == RefusalCode.AGGREGATE_UNSIGNED


def test_an_expired_aggregate_is_refused(federation, idps):
    xml = federation.aggregate(idps, valid_hours=-1)
    assert refused(certificate=federation.certificate, xml=xml) == RefusalCode.AGGREGATE_EXPIRED


@pytest.mark.parametrize("xml", ["<x/>", "not xml at all", ""])
def test_what_is_no_aggregate_is_refused(federation, xml):
    assert refused(certificate=federation.certificate, xml=xml) == RefusalCode.AGGREGATE_UNREADABLE


def test_a_certificate_that_is_no_pem_certificate_is_refused(federation, idps):
    xml = federation.aggregate(idps)
    assert refused(certificate="nope", xml=xml) == RefusalCode.CERTIFICATE_INVALID


def test_an_unreachable_url_is_refused():
    code = refused(certificate=TestFederation().certificate, url="http://127.0.0.1:9/agg.xml")
    assert code == RefusalCode.AGGREGATE_UNREACHABLE
