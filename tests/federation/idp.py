"""A school's identity provider for the tests, built with pysaml2's own
`Server`: it signs (or not) the answers the tests post to our ACS, so that
no XML is written by hand here either."""

import base64
import shutil
import tempfile
from pathlib import Path

from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server

from federation import saml
from federation.keys import self_signed_pair
from federation.models import REFEDS_MFA, IdentityProvider

PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
_KEYS = Path(tempfile.mkdtemp(prefix="behorighetsportalen-test-idp-"))


class SchoolIdP:
    """One IdP (entity `entity_id`) that trusts our SP's current metadata."""

    def __init__(self, entity_id: str = "https://idp.testkommun.se/saml") -> None:
        self.entity_id = entity_id
        key, cert = self_signed_pair(_KEYS, name=entity_id.split("//")[1].split("/")[0])
        sp_metadata = str(entity_descriptor(saml.sp_config()))
        config = IdPConfig()
        config.load(
            {
                "entityid": entity_id,
                "xmlsec_binary": shutil.which("xmlsec1"),
                "key_file": key,
                "cert_file": cert,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(f"{entity_id}/sso", BINDING_HTTP_REDIRECT)]
                        },
                        "policy": {
                            "default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}
                        },
                        "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    }
                },
                "metadata": {"inline": [sp_metadata]},
            }
        )
        self.config = config
        self.server = Server(config=config)

    def metadata(self) -> str:
        return str(entity_descriptor(self.config))

    def register(self, huvudman, **fields) -> IdentityProvider:
        return IdentityProvider.objects.create(
            huvudman=huvudman,
            entity_id=self.entity_id,
            name=fields.pop("name", "Testkommunens skolkonton"),
            metadata_xml=self.metadata(),
            eppn_scopes=fields.pop("eppn_scopes", "testkommun.se"),
            **fields,
        )

    def answer(
        self,
        request_id: str,
        *,
        eppn: str = "kim@testkommun.se",
        mail: str = "larare@example.se",
        context: str = REFEDS_MFA,
        audience: str | None = None,
        destination: str | None = None,
        signed: bool = True,
        attributes: dict | None = None,
    ) -> str:
        """The base64 SAMLResponse the IdP posts for `request_id`."""
        identity = (
            attributes
            if attributes is not None
            else {"eduPersonPrincipalName": [eppn], "mail": [mail]}
        )
        response = self.server.create_authn_response(
            identity=identity,
            in_response_to=request_id,
            destination=destination or saml.acs_url(),
            sp_entity_id=audience or saml.sp_entity_id(),
            name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text="transient-1"),
            authn={"class_ref": context, "authn_auth": self.entity_id},
            sign_assertion=signed,
            sign_response=False,
        )
        return base64.b64encode(str(response).encode()).decode()
