"""A federation's signed metadata aggregate for the tests, signed by
pysaml2's own `entities_descriptor` with the federation's key."""

import shutil
import tempfile
from pathlib import Path

from saml2 import md
from saml2.config import Config
from saml2.extension.shibmd import Scope
from saml2.metadata import entities_descriptor
from saml2.sigver import security_context

from federation.keys import self_signed_pair
from tests.federation.idp import SchoolIdP

_KEYS = Path(tempfile.mkdtemp(prefix="behorighetsportalen-test-federation-"))


class TestFederation:
    """A federation (its own signing key) publishing the metadata of `idps`."""

    __test__ = False

    def __init__(self, name: str = "federation.test") -> None:
        self.key, self.cert = self_signed_pair(_KEYS, name=name)
        self.certificate = Path(self.cert).read_text()

    def aggregate(
        self, idps: list[SchoolIdP], *, scopes: dict | None = None, sign=True, valid_hours=24
    ) -> str:
        descriptors = []
        for idp in idps:
            descriptor = md.entity_descriptor_from_string(idp.metadata())
            scope = (scopes or {}).get(idp.entity_id)
            if scope:
                descriptor.idpsso_descriptor[0].extensions = md.Extensions(
                    extension_elements=[Scope(text=scope)]
                )
            descriptors.append(descriptor)
        config = Config()
        config.load(
            {"xmlsec_binary": shutil.which("xmlsec1"), "key_file": self.key, "cert_file": self.cert}
        )
        entities, xml = entities_descriptor(
            descriptors,
            valid_hours,
            "https://federation.test",
            "aggregate-1",
            sign,
            security_context(config),
        )
        return xml if sign else str(entities)
