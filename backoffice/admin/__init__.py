"""The national admins' site, /admin/: its model admins, one module per app
whose models they show. Django's autodiscovery imports this package."""

from backoffice.admin import accounts, audit, core, federation, permissions, portal, schools

__all__ = ["accounts", "audit", "core", "federation", "permissions", "portal", "schools"]
