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
        from permissions.services.password_reset import RESET_MAIL, password_reset_compose
        from permissions.slips import SLIP_MAIL, slip_mail_compose

        # The login and credential services of `accounts` record events at
        # the school or huvudman this app knows an account by.
        scopes.provide(SCOPES)
        # "Glömt lösenordet?": the worker decides whether the typed text names
        # an account (the request does the same work either way).
        composer_register(RESET_MAIL, password_reset_compose, label=_("Forgotten password code"))
        # A slip the school sends again is rendered by the mail worker.
        composer_register(SLIP_MAIL, slip_mail_compose, label=_("Login slip sent again"))
