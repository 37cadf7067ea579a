from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Konton"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.sessions import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="accounts.login_time")


class NationalAdminConfig(admin_apps.AdminConfig):
    """The stock admin app, with `admin.site` replaced by the OTP-guarded site."""

    default = False
    default_site = "accounts.sites.NationalAdminSite"
