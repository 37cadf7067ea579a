"""A national admin stores a federation, loads its signed aggregate (an
uploaded file or its URL, here a local HTTP server) verified against the
federation's certificate, and picks which of its IdPs each huvudman uses."""

import http.server
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from audit.models import AuditEvent
from core.refusals import RefusalCode, Refused
from federation import saml
from federation.models import Federation, IdentityProvider
from tests.conftest import verify_session
from tests.federation.aggregate import TestFederation
from tests.federation.idp import SchoolIdP

pytestmark = pytest.mark.django_db

ADD = "/admin/federation/federation/add/"
OTHER_IDP = "https://idp.annankommun.se/saml"


@pytest.fixture
def admin_client(client, national_admin):
    return verify_session(client, national_admin)


@pytest.fixture(scope="module")
def skolfederation() -> TestFederation:
    return TestFederation("skolfederation.test")


@pytest.fixture
def idps() -> list[SchoolIdP]:
    return [SchoolIdP(), SchoolIdP(OTHER_IDP)]


def scopes(idps):
    return {idps[0].entity_id: "testkommun.se", OTHER_IDP: "annankommun.se"}


def message(code: RefusalCode, **params) -> str:
    """The refusal's sentence as the page shows it (HTML-escaped)."""
    return escape(Refused(code, **params).message)


def upload(client, federation: TestFederation, xml: str, **fields):
    data = {
        "name": "Skolfederation",
        "metadata_url": "",
        "certificate": federation.certificate,
        "aggregate_file": SimpleUploadedFile("aggregate.xml", xml.encode(), "application/xml"),
        **fields,
    }
    return client.post(ADD, data)


def test_an_uploaded_signed_aggregate_is_stored_and_audited(admin_client, skolfederation, idps):
    xml = skolfederation.aggregate(idps, scopes=scopes(idps))
    response = upload(admin_client, skolfederation, xml)
    assert response.status_code == 302, response.content.decode()[-3000:]
    stored = Federation.objects.get()
    assert stored.metadata_xml == xml and stored.loaded_at is not None
    event = AuditEvent.objects.get(action="federation_changed")
    assert event.target == "Skolfederation"
    assert (event.details["change"], event.details["identity_providers"]) == ("created", 2)


@pytest.mark.parametrize("signer", ["other", "changed"])
def test_a_bad_signature_or_another_certificate_is_refused_and_changes_nothing(
    admin_client, skolfederation, idps, signer
):
    if signer == "other":
        xml = TestFederation("other.test").aggregate(idps)
    else:
        xml = skolfederation.aggregate(idps).replace("idp.annankommun.se", "idp.evil.example")
    response = upload(admin_client, skolfederation, xml)
    assert response.status_code == 200
    assert message(RefusalCode.AGGREGATE_SIGNATURE) in response.content.decode()
    assert not Federation.objects.exists()
    assert not AuditEvent.objects.filter(action="federation_changed").exists()


def test_an_unsigned_aggregate_is_refused(admin_client, skolfederation, idps):
    response = upload(admin_client, skolfederation, skolfederation.aggregate(idps, sign=False))
    assert message(RefusalCode.AGGREGATE_UNSIGNED) in response.content.decode()
    assert not Federation.objects.exists()


@pytest.fixture
def served():
    """A local web server that publishes whatever aggregate `served.xml` holds."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = served.xml.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = type("Served", (), {"xml": "", "url": f"http://127.0.0.1:{server.server_port}/md"})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


def federation_from_url(client, federation, served) -> Federation:
    response = client.post(
        ADD,
        {
            "name": "Skolfederation",
            "metadata_url": served.url,
            "certificate": federation.certificate,
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    return Federation.objects.get()


def pick(client, federation: Federation, huvudman, entity_ids):
    return client.post(
        f"/admin/federation/federation/{federation.pk}/pick/",
        {"huvudman": str(huvudman.pk), "entity_ids": entity_ids},
    )


def test_a_huvudman_gets_the_picked_idps_from_the_aggregate_at_its_url(
    admin_client, skolfederation, idps, served, huvudman, other_huvudman
):
    served.xml = skolfederation.aggregate(idps, scopes=scopes(idps))
    stored = federation_from_url(admin_client, skolfederation, served)
    page = admin_client.get(f"/admin/federation/federation/{stored.pk}/pick/")
    assert page.status_code == 200 and OTHER_IDP in page.content.decode()
    response = pick(admin_client, stored, huvudman, [idps[0].entity_id, OTHER_IDP])
    assert response.status_code == 302, response.content.decode()[-3000:]
    rows = {row.entity_id: row for row in IdentityProvider.objects.all()}
    assert set(rows) == {idps[0].entity_id, OTHER_IDP}
    first = rows[idps[0].entity_id]
    assert (first.huvudman, first.federation, first.eppn_scopes) == (
        huvudman,
        stored,
        "testkommun.se",
    )
    assert saml.metadata_parses(first.metadata_xml, first.entity_id)
    changes = AuditEvent.objects.filter(action="identity_provider_changed", huvudman=huvudman)
    assert changes.count() == 2
    assert changes.first().details["federation"] == "Skolfederation"
    # Unticked: switched off, never deleted.
    pick(admin_client, stored, huvudman, [idps[0].entity_id])
    assert not IdentityProvider.objects.get(entity_id=OTHER_IDP).is_active
    # Another huvudman cannot take an IdP in use: nothing changes.
    taken = pick(admin_client, stored, other_huvudman, [idps[0].entity_id])
    assert taken.status_code == 200
    assert (
        message(RefusalCode.IDP_TAKEN, entity_id=idps[0].entity_id, huvudman=huvudman.name)
        in taken.content.decode()
    )
    assert not IdentityProvider.objects.filter(huvudman=other_huvudman).exists()


def test_loading_again_refreshes_the_picked_idps_and_a_bad_load_changes_nothing(
    admin_client, skolfederation, idps, served, huvudman
):
    served.xml = skolfederation.aggregate(idps, scopes=scopes(idps))
    stored = federation_from_url(admin_client, skolfederation, served)
    pick(admin_client, stored, huvudman, [idps[0].entity_id, OTHER_IDP])
    before = Federation.objects.get().metadata_xml
    # The federation's server now serves a tampered aggregate: refused, nothing changes.
    served.xml = served.xml.replace("idp.annankommun.se", "idp.evil.example")
    action = {"action": "load_again", "_selected_action": [str(stored.pk)]}
    page = admin_client.post("/admin/federation/federation/", action, follow=True)
    assert message(RefusalCode.AGGREGATE_SIGNATURE) in page.content.decode()
    assert Federation.objects.get().metadata_xml == before
    assert IdentityProvider.objects.filter(is_active=True).count() == 2
    # A new aggregate without one of the IdPs: it is switched off, the other refreshed.
    renewed = SchoolIdP()
    served.xml = skolfederation.aggregate([renewed], scopes=scopes(idps))
    admin_client.post("/admin/federation/federation/", action, follow=True)
    assert not IdentityProvider.objects.get(entity_id=OTHER_IDP).is_active
    assert IdentityProvider.objects.get(entity_id=renewed.entity_id).is_active
    loaded = AuditEvent.objects.filter(action="federation_changed").latest("pk")
    assert loaded.details["switched_off"] == [OTHER_IDP]


def test_huvudman_staff_cannot_reach_the_federations(client, huvudman_staff, skolfederation):
    verify_session(client, huvudman_staff)
    assert client.get(ADD).status_code in (302, 403, 404)
    assert client.get("/huvudman/federation/federation/").status_code == 404
