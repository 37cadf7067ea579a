"""The service provider, through pysaml2: its configuration (from settings
and the registered identity providers), its signed metadata, the
AuthnRequest, and the checked answer.

SECURITY: no XML signature code here. pysaml2 (with xmlsec1) verifies the
signature against the issuing IdP's metadata, the audience, the
destination and recipient, the validity window (with at most a minute of
clock skew) and InResponseTo; this module adds what pysaml2 leaves to the
SP: the InResponseTo is one of our own outstanding requests, sent to this
very IdP, answered once; each assertion ID is accepted once on every app
server (`SeenAssertion`); the eduPersonPrincipalName carries one of the
IdP's scopes.
"""

import datetime
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import saml2
import saml2.time_util
from django.conf import settings
from django.utils import timezone
from djangosaml2.utils import get_location
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.sigver import security_context
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from core.refusals import RefusalCode, Refused
from federation.models import IdentityProvider, OutstandingRequest

# The attributes the SP asks for (Skolfederation's attribute profile), by the
# friendly names pysaml2's attribute maps give the OIDs.
EPPN = "eduPersonPrincipalName"
MAIL = "mail"
DISPLAY_NAME = "displayName"
REQUIRED_ATTRIBUTES = (EPPN,)
OPTIONAL_ATTRIBUTES = (MAIL, DISPLAY_NAME)
# SECURITY: the most clock skew accepted between the IdP and us (seconds).
CLOCK_SKEW = 60


def federation_enabled() -> bool:
    """Whether the SP has its key and certificate (else there is no federated login)."""
    return bool(settings.SAML_SP_KEY_FILE and settings.SAML_SP_CERT_FILE)


def sp_entity_id() -> str:
    return f"{settings.SITE_URL}/saml2/metadata/"


def acs_url() -> str:
    return f"{settings.SITE_URL}/saml2/acs/"


def _config_dict(metadata: list[str]) -> dict:
    key, cert = settings.SAML_SP_KEY_FILE, settings.SAML_SP_CERT_FILE
    return {
        "entityid": sp_entity_id(),
        "xmlsec_binary": shutil.which("xmlsec1"),
        "key_file": key,
        "cert_file": cert,
        "encryption_keypairs": [{"key_file": key, "cert_file": cert}],
        "accepted_time_diff": CLOCK_SKEW,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": "Behörighetsportalen",
                "endpoints": {
                    "assertion_consumer_service": [(acs_url(), saml2.BINDING_HTTP_POST)],
                },
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "name_id_format": [NAMEID_FORMAT_TRANSIENT, NAMEID_FORMAT_PERSISTENT],
                "required_attributes": list(REQUIRED_ATTRIBUTES),
                "optional_attributes": list(OPTIONAL_ATTRIBUTES),
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        },
        "metadata": {"inline": metadata},
    }


# PERFORMANCE: parsing every IdP's metadata costs milliseconds each, so the
# configuration is kept per process until an IdP changes (one small query
# tells). Keyed also by the site address and key file, which tests change.
_cache: dict[tuple, SPConfig] = {}


def sp_config() -> SPConfig:
    """The SP's pysaml2 configuration with the metadata of every IdP in use."""
    stamp = tuple(
        IdentityProvider.objects.filter(is_active=True)
        .order_by("pk")
        .values_list("pk", "updated_at")
    )
    key = (settings.SITE_URL, settings.SAML_SP_KEY_FILE, stamp)
    config = _cache.get(key)
    if config is None:
        # Only rows whose metadata describes their own entity alone (rows
        # saved before `metadata_parses` said so are left out).
        metadata = [
            xml
            for entity_id, xml in IdentityProvider.objects.filter(is_active=True)
            .order_by("pk")
            .values_list("entity_id", "metadata_xml")
            if metadata_parses(xml, entity_id)
        ]
        config = SPConfig()
        config.load(_config_dict(metadata))
        _cache.clear()
        _cache[key] = config
    return config


def metadata_parses(xml: str, entity_id: str) -> bool:
    """Whether `xml` is SAML metadata describing IdP `entity_id`."""
    config = SPConfig()
    try:
        config.load(_config_dict([xml]))
        # SECURITY: it describes that one entity and nothing else: metadata
        # naming another IdP too would put its keys beside (or before) the
        # real one's in the SP's store.
        if list(config.metadata.keys()) != [entity_id]:
            return False
        return bool(config.metadata.single_sign_on_service(entity_id, saml2.BINDING_HTTP_REDIRECT))
    except Exception:  # pysaml2 raises many kinds on bad XML; each means "no"
        return False


def signed_metadata() -> str:
    """The SP's metadata, signed with its own key."""
    config = sp_config()
    descriptor = entity_descriptor(config)
    _, xml = sign_entity_descriptor(descriptor, None, security_context(config))
    return xml


def authn_request(*, idp: IdentityProvider) -> tuple[str, str]:
    """A signed AuthnRequest (HTTP-Redirect) to `idp`: its ID and the URL to send the browser to."""
    client = Saml2Client(sp_config())
    request_id, info = client.prepare_for_authenticate(
        entityid=idp.entity_id,
        binding=saml2.BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return request_id, get_location(info)


class _Outstanding(Mapping):
    """Our unanswered, unexpired requests as pysaml2 asks about them, read
    from the database one ID at a time (the IdP's answer comes without the
    browser's session)."""

    def __init__(self) -> None:
        self.found: dict[str, OutstandingRequest] = {}

    def __getitem__(self, request_id: str) -> str:
        row = (
            OutstandingRequest.objects.select_related("idp")
            .filter(request_id=str(request_id), expires_at__gt=timezone.now())
            .first()
        )
        if row is None:
            raise KeyError(request_id)
        self.found[row.request_id] = row
        return row.idp.entity_id

    def __iter__(self) -> Iterator[str]:
        return iter(self.found)

    def __len__(self) -> int:
        return len(self.found)

    def __bool__(self) -> bool:
        # pysaml2 checks the mapping's truth before it looks anything up.
        return True


@dataclass(frozen=True)
class CheckedAnswer:
    """What a verified assertion said, and the request it answered."""

    request: OutstandingRequest
    assertion_id: str
    assertion_expires: datetime.datetime
    attributes: dict
    contexts: list[str]


def answer_check(*, saml_response: str) -> CheckedAnswer:
    """Verify the IdP's posted answer (pysaml2); raises Refused(FEDERATION_INVALID, reason=...).

    The caller still consumes the request, records the assertion ID and
    checks the attributes (`federation.services.answer_accept`).
    """
    outstanding = _Outstanding()
    client = Saml2Client(sp_config())
    try:
        response = client.parse_authn_request_response(
            saml_response, saml2.BINDING_HTTP_POST, outstanding
        )
    except Exception as error:  # noqa: BLE001 - pysaml2 raises dozens of kinds; all refuse
        reason = type(error).__name__
        if type(error) is Exception:
            # pysaml2's plain Exception says why in its text ("Not for me!": the audience).
            reason = f"{reason}: {str(error)[:100]}"
        raise Refused(RefusalCode.FEDERATION_INVALID, reason=reason) from error
    if response is None or response.assertion is None:
        raise Refused(RefusalCode.FEDERATION_INVALID, reason="NoAssertion")
    request = outstanding.found.get(response.in_response_to)
    # SECURITY: the answer must come from the IdP the request was sent to; a
    # signature by another registered IdP is no answer to it. pysaml2 checks
    # each assertion's signature against the assertion's own Issuer, and the
    # Response's Issuer is not signed (only assertions must be): every
    # assertion's Issuer, and the Response's if it names one, must be that IdP.
    if request is None or _issuers(response) != {request.idp.entity_id}:
        raise Refused(RefusalCode.FEDERATION_INVALID, reason="WrongIssuer")
    return CheckedAnswer(
        request=request,
        assertion_id=response.assertion.id,
        assertion_expires=_assertion_expiry(response),
        attributes=response.ava or {},
        contexts=[context for context, _authorities, _instant in response.authn_info()],
    )


def _issuers(response) -> set[str | None]:
    """Every issuer the answer names: each assertion's (None when one names
    none) and the Response's own, if it has one."""
    issuers = {
        assertion.issuer.text.strip()
        if assertion.issuer is not None and assertion.issuer.text
        else None
        for assertion in response.assertions
    }
    if response.issuer():
        issuers.add(response.issuer())
    return issuers


def _assertion_expiry(response) -> datetime.datetime:
    """Until when the assertion could be accepted (its bearer confirmation or
    conditions), plus the clock skew: how long its ID must be remembered."""
    moments = []
    for confirmation in response.assertion.subject.subject_confirmation:
        data = confirmation.subject_confirmation_data
        if data is not None and data.not_on_or_after:
            moments.append(data.not_on_or_after)
    conditions = response.assertion.conditions
    if conditions is not None and conditions.not_on_or_after:
        moments.append(conditions.not_on_or_after)
    skew = datetime.timedelta(seconds=CLOCK_SKEW)
    if not moments:
        return timezone.now() + datetime.timedelta(hours=1)
    latest = max(saml2.time_util.str_to_time(moment) for moment in moments)
    return datetime.datetime(*latest[:6], tzinfo=datetime.UTC) + skew
