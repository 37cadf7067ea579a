"""A huvudman's SS 12000 source: saving it (tested first: a bad address or
token saves nothing), its sealed secret, and "Testa anslutningen"."""

import dataclasses

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.sealed import SealBroken, derived_key, seal, unseal
from provisioning.client import Client, SourceError, check_url
from provisioning.models import AuthKind, Source, default_teaching_roles
from schools.models import Huvudman, SchoolUnit

SECRET_PURPOSE = "ss12000-source"  # noqa: S105 (a key derivation label, not a secret)


def _label(huvudman_id: int) -> str:
    return f"ss12000-source:{huvudman_id}"


def secret_seal(secret: str, *, huvudman_id: int) -> bytes:
    """SECURITY: the token or client secret opens the huvudman's staff data at
    the source, so it is sealed under a key derived from MATRIX_CARD_KEY
    (environment, never the database) and bound to its huvudman."""
    return seal(secret.encode(), key=derived_key(SECRET_PURPOSE), label=_label(huvudman_id))


def secret_unseal(source: Source) -> str:
    try:
        return unseal(
            source.sealed_secret, key=derived_key(SECRET_PURPOSE), label=_label(source.huvudman_id)
        ).decode()
    except SealBroken:
        raise SourceError(
            _("The source's token can no longer be read (the key changed): save it again.")
        ) from None


def client_for(source: Source, **options) -> Client:
    secret = secret_unseal(source)
    if source.auth_kind == AuthKind.CLIENT_CREDENTIALS:
        return Client(
            base_url=source.base_url,
            client_id=source.client_id,
            client_secret=secret,
            token_url=source.token_url,
            **options,
        )
    return Client(base_url=source.base_url, token=secret, **options)


@dataclasses.dataclass(frozen=True)
class ConnectionCheck:
    """What "Testa anslutningen" saw."""

    organisations: int
    matching_units: int
    our_units: int
    teacher_duties: int


def connection_check(*, client: Client, huvudman: Huvudman, roles=None) -> ConnectionCheck:
    """Read the source's organisations and duties (streamed) and count what
    matches: units with our skolenhetskoder, duties with a teaching role there."""
    roles = set(roles or default_teaching_roles())
    codes = set(SchoolUnit.objects.filter(huvudman=huvudman).values_list("code", flat=True))
    matching: set[str] = set()
    organisations = 0
    for item in client.items("organisations"):
        organisations += 1
        if str(item.get("schoolUnitCode") or "") in codes:
            matching.add(str(item.get("id")))
    duties = sum(
        1
        for duty in client.items("duties")
        if duty.get("dutyRole") in roles and _ref_id(duty.get("dutyAt")) in matching
    )
    return ConnectionCheck(
        organisations=organisations,
        matching_units=len(matching),
        our_units=len(codes),
        teacher_duties=duties,
    )


def _ref_id(ref) -> str:
    return str(ref.get("id")) if isinstance(ref, dict) and ref.get("id") else ""


@transaction.atomic
def source_save(
    *,
    huvudman: Huvudman,
    context: AuditContext,
    base_url: str,
    token: str = "",
    client_id: str = "",
    client_secret: str = "",
    token_url: str = "",
    check: bool = True,
) -> tuple[Source, ConnectionCheck | None]:
    """Create or replace the huvudman's source. With `check` the source is
    read first: a bad address or token raises SourceError and saves nothing.
    An empty token (and secret) keeps the stored one."""
    base_url = check_url(base_url)
    source = Source.objects.select_for_update().filter(huvudman=huvudman).first()
    kind = AuthKind.CLIENT_CREDENTIALS if client_id or token_url else AuthKind.BEARER
    secret = client_secret if kind == AuthKind.CLIENT_CREDENTIALS else token
    if not secret:
        if source is None or source.auth_kind != kind:
            raise SourceError(_("Give a token, or a client id, secret and token address."))
        secret = secret_unseal(source)
    if kind == AuthKind.CLIENT_CREDENTIALS and not (client_id and token_url):
        raise SourceError(_("Client credentials need a client id, a secret and a token address."))
    client = Client(
        base_url=base_url,
        token=secret if kind == AuthKind.BEARER else "",
        client_id=client_id,
        client_secret=secret if kind == AuthKind.CLIENT_CREDENTIALS else "",
        token_url=token_url,
    )
    seen = connection_check(client=client, huvudman=huvudman) if check else None
    changed = source is None or source.base_url != base_url
    if source is None:
        source = Source(huvudman=huvudman)
    source.base_url, source.auth_kind = base_url, kind
    source.client_id, source.token_url = client_id, token_url
    source.sealed_secret = secret_seal(secret, huvudman_id=huvudman.pk)
    if changed:
        # Another system: the next sync reads everything again.
        source.synced_through = None
    source.save()
    audit_record(
        action=AuditAction.SS12000_SOURCE_CHANGED,
        context=context,
        huvudman=huvudman,
        target=huvudman.organisationsnummer,
        details={"what": source.host, "change": kind},
    )
    return source, seen


@transaction.atomic
def source_sync_request(*, source: Source, context: AuditContext) -> None:
    """ "Synka nu": the next run of `ss12000_sync` (the worker) takes this source first."""
    Source.objects.filter(pk=source.pk).update(sync_requested_at=timezone.now())
