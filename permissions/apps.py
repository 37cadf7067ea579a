from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = _("Permissions")

    def ready(self) -> None:
        # Imported here: models are ready only now.
        from accounts import scopes
        from permissions.scopes import SCOPES

        # The login and credential services of `accounts` record events at
        # the school or huvudman this app knows an account by.
        scopes.provide(SCOPES)
