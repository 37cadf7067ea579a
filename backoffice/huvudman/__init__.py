"""/huvudman/: the admin site where huvudman staff manage their own huvudman.

SECURITY: staff hold no Django model permissions. Every ModelAdmin here
decides `has_*_permission` through `permissions.policy`, starts every
queryset from a policy function scoped to the staff member's huvudman, and
turns a missing object into a 404 (the stock admin redirects with a message),
so another huvudman's objects look exactly like ids that do not exist.
Every change goes through a service in `schools.services` or
`accounts.services`, which records its audit event.

One module per concern; importing this package registers them all."""

from backoffice.huvudman import audit, federation, notices, principals, reports, schools, ss12000
from backoffice.huvudman.site import huvudman_site

__all__ = [
    "audit",
    "federation",
    "huvudman_site",
    "notices",
    "principals",
    "reports",
    "schools",
    "ss12000",
]
