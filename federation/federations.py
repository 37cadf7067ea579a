"""The writes of a national federation: storing its verified metadata
aggregate, and picking which of its identity providers a huvudman uses.
Each is atomic and audited; the aggregate is verified before any of them
(`federation.aggregate.aggregate_load`), so a refused load changes nothing.
"""

from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.refusals import RefusalCode, Refused
from federation.aggregate import AggregateIdP
from federation.models import Federation, IdentityProvider
from federation.services import identity_provider_save
from schools.models import Huvudman


@transaction.atomic
def federation_load(
    *,
    context: AuditContext,
    federation: Federation,
    xml: str,
    idps: list[AggregateIdP],
    source: str,
) -> None:
    """Store `federation` with its verified aggregate `xml` (from `source`:
    "url" or "upload"). The IdPs huvudmän picked from it get the aggregate's
    metadata now; one the aggregate no longer lists is switched off (the
    federation no longer vouches for it). Each change audited."""
    created = federation.pk is None
    federation.metadata_xml = xml
    federation.loaded_at = timezone.now()
    federation.save()
    by_id = {idp.entity_id: idp for idp in idps}
    refreshed, dropped = [], []
    for row in IdentityProvider.objects.filter(federation=federation).select_related("huvudman"):
        found = by_id.get(row.entity_id)
        if found is None and row.is_active:
            row.is_active = False
            dropped.append(row.entity_id)
        elif found is not None and row.metadata_xml != found.metadata_xml:
            row.metadata_xml = found.metadata_xml
            refreshed.append(row.entity_id)
        else:
            continue
        identity_provider_save(context=context, idp=row, details={"federation": federation.name})
    audit_record(
        action=AuditAction.FEDERATION_CHANGED,
        context=context,
        target=federation.name,
        details={
            "change": "created" if created else "loaded",
            "source": source,
            "identity_providers": len(idps),
            "refreshed": refreshed,
            "switched_off": dropped,
        },
    )


@transaction.atomic
def federation_idps_pick(
    *,
    context: AuditContext,
    federation: Federation,
    huvudman: Huvudman,
    offered: list[AggregateIdP],
    picked: set[str],
) -> None:
    """The IdPs of the federation's aggregate (`offered`) that `huvudman`
    uses: those `picked` are created or updated from the aggregate's entity
    descriptors (and switched on); the huvudman's other IdPs from this
    federation are switched off. Refused IDP_TAKEN, changing nothing, when
    another huvudman already has one of them."""
    chosen = [idp for idp in offered if idp.entity_id in picked]
    taken = (
        IdentityProvider.objects.filter(entity_id__in=[idp.entity_id for idp in chosen])
        .exclude(huvudman=huvudman)
        .select_related("huvudman")
        .first()
    )
    if taken is not None:
        raise Refused(
            RefusalCode.IDP_TAKEN, entity_id=taken.entity_id, huvudman=taken.huvudman.name
        )
    rows = {
        row.entity_id: row
        for row in IdentityProvider.objects.filter(
            huvudman=huvudman, entity_id__in=[idp.entity_id for idp in chosen]
        )
    }
    details = {"federation": federation.name}
    for idp in chosen:
        row = rows.get(idp.entity_id) or IdentityProvider(
            huvudman=huvudman, entity_id=idp.entity_id, name=idp.name
        )
        unchanged = (row.metadata_xml, row.federation_id, row.is_active) == (
            idp.metadata_xml,
            federation.pk,
            True,
        )
        if row.pk is not None and unchanged:
            continue
        row.metadata_xml = idp.metadata_xml
        row.federation = federation
        row.is_active = True
        # The scopes the federation registered, unless the huvudman's own are set.
        row.eppn_scopes = row.eppn_scopes or "\n".join(idp.scopes)
        identity_provider_save(context=context, idp=row, details=details)
    for row in IdentityProvider.objects.filter(
        huvudman=huvudman, federation=federation, is_active=True
    ).exclude(entity_id__in=[idp.entity_id for idp in chosen]):
        row.is_active = False
        identity_provider_save(context=context, idp=row, details=details)
