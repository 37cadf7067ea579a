"""A national federation's signed metadata aggregate (e.g. Skolfederation's):
fetch it, verify it against the federation's signing certificate with
pysaml2 (xmlsec1), and list the identity providers it describes.

SECURITY: no XML signature code here. pysaml2's `MetaDataExtern` /
`parse_and_check_signature` verifies the signature with xmlsec1 against the
certificate the national admin stored, never against one the document
carries. pysaml2 accepts an unsigned document as it is, so this module
refuses one itself, and it also refuses a signature that covers anything but
the whole aggregate (its root `EntitiesDescriptor`), so no unsigned
entities can be wrapped around a signed part.
"""

import dataclasses
import os
import shutil
import tempfile

from cryptography import x509
from saml2 import md
from saml2.attribute_converter import ac_factory
from saml2.config import Config
from saml2.httpbase import HTTPBase
from saml2.mdstore import InMemoryMetaData, MetaDataExtern, ToOld
from saml2.sigver import SigverError, security_context

from core.refusals import RefusalCode, Refused

# The metadata of Shibboleth's scopes (what eduPersonPrincipalName may carry).
SHIBMD = "urn:mace:shibboleth:metadata:1.0"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
ROOT = f"{md.EntitiesDescriptor.c_namespace}:{md.EntitiesDescriptor.c_tag}"
# Seconds to wait for the federation's server.
FETCH_TIMEOUT = 30


@dataclasses.dataclass(frozen=True)
class AggregateIdP:
    """One identity provider the verified aggregate describes."""

    entity_id: str
    name: str
    scopes: tuple[str, ...]
    metadata_xml: str


def certificate_check(pem: str) -> str:
    """The PEM certificate, stripped; Refused CERTIFICATE_INVALID if it is not one."""
    pem = (pem or "").strip()
    try:
        x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise Refused(RefusalCode.CERTIFICATE_INVALID) from None
    if pem.count("-----BEGIN CERTIFICATE-----") != 1:
        raise Refused(RefusalCode.CERTIFICATE_INVALID)
    return pem


def _security():
    """pysaml2's security context with xmlsec1, and no key of our own."""
    config = Config()
    config.load({"xmlsec_binary": shutil.which("xmlsec1")})
    return security_context(config)


def _verified(source, xml: bytes | str | None) -> InMemoryMetaData:
    """Load (`xml`, or fetch from `source.url`) and verify; Refused on any failure."""
    try:
        if xml is None:
            source.load()
        else:
            source.parse_and_check_signature(xml)
    except SigverError:
        # A signature xmlsec1 does not verify, or cannot even read.
        raise Refused(RefusalCode.AGGREGATE_SIGNATURE) from None
    except ToOld:
        raise Refused(RefusalCode.AGGREGATE_EXPIRED) from None
    except Exception:  # pysaml2 raises many kinds on bad XML; each means "unreadable"
        if xml is None and getattr(source, "fetched", None) is None:
            raise Refused(RefusalCode.AGGREGATE_UNREACHABLE, url=source.url) from None
        raise Refused(RefusalCode.AGGREGATE_UNREADABLE) from None
    return source


class _Fetching(MetaDataExtern):
    """pysaml2's MetaDataExtern, remembering the text it fetched (stored once verified)."""

    fetched: bytes | None = None

    def parse_and_check_signature(self, txt):
        self.fetched = txt if isinstance(txt, bytes) else str(txt).encode()
        return super().parse_and_check_signature(txt)


def aggregate_load(
    *, certificate: str, xml: bytes | str | None = None, url: str = ""
) -> tuple[str, list[AggregateIdP]]:
    """Verify the aggregate (`xml`, else fetched from `url`) against the
    federation's `certificate`: its text and its IdPs. Raises `Refused`
    (AGGREGATE_UNREADABLE, _UNSIGNED, _SIGNATURE, _EXPIRED, _UNREACHABLE,
    CERTIFICATE_INVALID); nothing is stored here."""
    pem = certificate_check(certificate)
    security = _security()
    attributes = ac_factory()
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as cert_file:
        cert_file.write(pem)
    try:
        kwargs = {"node_name": ROOT, "check_validity": True}
        if xml is None:
            http = HTTPBase(verify=True, http_client_timeout=FETCH_TIMEOUT)
            source = _Fetching(
                attributes, url=url, security=security, cert=cert_file.name, http=http, **kwargs
            )
        else:
            source = InMemoryMetaData(attributes, security=security, **kwargs)
            source.cert = cert_file.name
        metadata = _verified(source, xml)
    finally:
        os.unlink(cert_file.name)
    text = xml if xml is not None else metadata.fetched
    text = text.decode() if isinstance(text, bytes) else text
    return text, _identity_providers(metadata)


def _identity_providers(metadata: InMemoryMetaData) -> list[AggregateIdP]:
    root = metadata.entities_descr
    if root is None:
        raise Refused(RefusalCode.AGGREGATE_UNREADABLE)
    # SECURITY: signed as a whole, by one reference to the root itself.
    if root.signature is None or not root.id:
        raise Refused(RefusalCode.AGGREGATE_UNSIGNED)
    references = root.signature.signed_info.reference
    if len(references) != 1 or references[0].uri != f"#{root.id}":
        raise Refused(RefusalCode.AGGREGATE_UNSIGNED)
    found = []
    for descriptor in root.entity_descriptor:
        if not descriptor.idpsso_descriptor or descriptor.entity_id in metadata.to_old:
            continue
        found.append(
            AggregateIdP(
                entity_id=descriptor.entity_id,
                name=_name(descriptor)[:200],
                scopes=_scopes(descriptor),
                metadata_xml=descriptor.to_string().decode(),
            )
        )
    if not found:
        raise Refused(RefusalCode.AGGREGATE_UNREADABLE)
    return sorted(found, key=lambda idp: (idp.name.lower(), idp.entity_id))


def _extensions(element) -> list:
    return list(element.extensions.extension_elements) if element.extensions else []


def _scopes(descriptor) -> tuple[str, ...]:
    return tuple(
        extension.text.strip().lower()
        for idpsso in descriptor.idpsso_descriptor
        for extension in _extensions(idpsso)
        if extension.namespace == SHIBMD and extension.tag == "Scope" and extension.text
    )


def _name(descriptor) -> str:
    """The IdP's display name: mdui (Swedish first), else the organisation's."""
    names = {}
    for idpsso in descriptor.idpsso_descriptor:
        for extension in _extensions(idpsso):
            if extension.namespace == MDUI and extension.tag == "UIInfo":
                for child in extension.children:
                    if child.tag == "DisplayName" and child.text:
                        lang = child.extension_attributes.get(
                            "{http://www.w3.org/XML/1998/namespace}lang", ""
                        )
                        names.setdefault(lang, child.text.strip())
    for lang in ("sv", "en", ""):
        if names.get(lang):
            return names[lang]
    if names:
        return next(iter(names.values()))
    organization = descriptor.organization
    if organization is not None and organization.organization_display_name:
        return organization.organization_display_name[0].text.strip()
    return ""
