"""Rate limits (the public support forms, codes mailed to a teacher), counted in database rows."""

import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from core.locks import advisory_lock
from core.models import RateLimitHit

WINDOW = datetime.timedelta(hours=1)
# Rows older than this are no longer needed for any window; pruned as we go.
KEEP = datetime.timedelta(days=1)


@transaction.atomic
def rate_limit_hit(*, scope: str, keys: dict[str, int]) -> bool:
    """Count one attempt under each key; False (and nothing counted) if any key is full.

    `keys` maps a key (e.g. "addr:203.0.113.5") to its limit per hour. A
    refused attempt is not counted, so a client waiting out the window is not
    punished for the waiting; an accepted one is counted under every key.

    SECURITY: the count and the insert are one step per key across every
    worker and app server (an advisory lock on scope and key until this
    transaction commits): otherwise parallel requests would all count the
    same rows before any of them wrote one, and all pass.
    """
    keys = {key[:300]: limit for key, limit in keys.items()}
    advisory_lock(*(f"rate:{scope}:{key}" for key in keys))
    now = timezone.now()
    RateLimitHit.objects.filter(scope=scope, created_at__lt=now - KEEP).delete()
    for key, limit in keys.items():
        recent = RateLimitHit.objects.filter(
            scope=scope, key=key, created_at__gte=now - WINDOW
        ).count()
        if recent >= limit:
            return False
    RateLimitHit.objects.bulk_create(
        [RateLimitHit(scope=scope, key=key, created_at=now) for key in keys]
    )
    return True


def rate_limit_full(*, scope: str, keys: dict[str, int]) -> list[str]:
    """The keys among `keys` at their limit now (one query): which one made
    `rate_limit_hit` refuse, to say so, or which would."""
    counts = dict(
        RateLimitHit.objects.filter(
            scope=scope,
            key__in=[key[:300] for key in keys],
            created_at__gte=timezone.now() - WINDOW,
        )
        .values_list("key")
        .annotate(hits=Count("pk"))
        .values_list("key", "hits")
    )
    return [key for key, limit in keys.items() if counts.get(key[:300], 0) >= limit]
