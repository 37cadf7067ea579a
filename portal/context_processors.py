from django.http import HttpRequest
from django.utils import timezone

from portal.models import SiteNotice


def site_notices(request: HttpRequest) -> dict:
    """Active notices for base.html: a lazy queryset, so at most one query per
    page, and none for pages (the error pages) that never loop over it."""
    return {"site_notices": SiteNotice.objects.active_at(timezone.now())}
