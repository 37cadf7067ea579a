"""Who acts, from where, and at which school: what every service is given
instead of the HTTP request."""

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class AuditContext:
    """Who acts, from which client address, and at which school unit.

    Built once per request (`web.request.audit_context`) and handed to
    every service the request calls. `actor` is None for an anonymous
    visitor or a system job; `school_unit` is the school a page acts at (an
    E-tjänster school page), the default scope of its audit events.
    """

    actor: Any = None
    address: str | None = None
    school_unit: Any = None
    # What the actor acts through, when not by hand: an SS 12000 source's
    # name, whose proposals the actor approved (None: approved automatically).
    # Every event of the context records it (`details["ss12000_source"]`).
    ss12000_source: str = ""

    @classmethod
    def system(cls) -> "AuditContext":
        """A management command, a migration or a test: no person, no address."""
        return cls()

    def acting(self, actor) -> "AuditContext":
        """The same request, now on behalf of `actor` (e.g. the user a login identified)."""
        return dataclasses.replace(self, actor=actor)

    def through_ss12000(self, source_name: str) -> "AuditContext":
        return dataclasses.replace(self, ss12000_source=source_name)

    def at(self, school_unit) -> "AuditContext":
        return dataclasses.replace(self, school_unit=school_unit)
