"""A huvudman's staff register its identity provider in /huvudman/, audited."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from federation.models import IdentityProvider
from tests.conftest import verify_session
from tests.federation.idp import SchoolIdP

ADD = "/huvudman/federation/identityprovider/add/"


def form(idp: SchoolIdP, **changes) -> dict:
    return {
        "entity_id": idp.entity_id,
        "name": "Skolkonton",
        "metadata_xml": idp.metadata(),
        "eppn_scopes": "testkommun.se",
        "mfa_contexts": "https://refeds.org/profile/mfa",
        "teachers_keep_password": "on",
        "is_active": "on",
        **changes,
    }


@pytest.mark.django_db
def test_staff_register_their_idp_from_a_metadata_file_and_it_is_audited(staff_client, huvudman):
    idp = SchoolIdP()
    data = form(idp, metadata_xml="")
    data["metadata_file"] = SimpleUploadedFile("idp.xml", idp.metadata().encode(), "text/xml")
    response = staff_client.post(ADD, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    registered = IdentityProvider.objects.get()
    assert registered.huvudman == huvudman and "EntityDescriptor" in registered.metadata_xml
    event = AuditEvent.objects.get(action="identity_provider_changed")
    assert event.huvudman_id == huvudman.pk and event.target == idp.entity_id


@pytest.mark.django_db
def test_metadata_of_another_entity_is_refused_with_a_message(staff_client):
    idp = SchoolIdP()
    response = staff_client.post(ADD, form(idp, entity_id="https://someone.else/saml"))
    assert response.status_code == 200
    assert "someone.else" in response.content.decode()
    assert not IdentityProvider.objects.exists()


@pytest.mark.django_db
def test_another_huvudmans_idp_is_404(staff_client, other_huvudman):
    theirs = SchoolIdP("https://idp.andra.se/saml").register(other_huvudman, eppn_scopes="andra.se")
    url = f"/huvudman/federation/identityprovider/{theirs.pk}/change/"
    assert staff_client.get(url).status_code == 404
    assert (
        "andra.se"
        not in staff_client.get("/huvudman/federation/identityprovider/").content.decode()
    )


@pytest.mark.django_db
def test_a_national_admin_registers_an_idp_for_any_huvudman(client, national_admin, other_huvudman):
    verify_session(client, national_admin)
    idp = SchoolIdP("https://idp.andra.se/saml")
    data = form(idp, eppn_scopes="andra.se", huvudman=str(other_huvudman.pk))
    response = client.post("/admin/federation/identityprovider/add/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert IdentityProvider.objects.get().huvudman == other_huvudman
    assert AuditEvent.objects.get(action="identity_provider_changed").huvudman_id == (
        other_huvudman.pk
    )
