from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = _("Permissions")

    def ready(self) -> None:
        # Imported here: models are ready only now.
        from accounts import scopes
        from core.outbox import composer_register
        from permissions.scopes import SCOPES
        from permissions.slips import SLIP_MAIL, slip_mail_compose

        # The login and credential services of `accounts` record events at
        # the school or huvudman this app knows an account by.
        scopes.provide(SCOPES)
        # A slip the school sends again is rendered by the mail worker.
        composer_register(SLIP_MAIL, slip_mail_compose, label=_("Login slip sent again"))
