from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Imported here: accounts.sessions reads the models, ready only now.
        from django.contrib.auth.signals import user_logged_in

        from accounts.sessions import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="accounts.login_time")
