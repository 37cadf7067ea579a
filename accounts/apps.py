from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Konton"


class NationalAdminConfig(admin_apps.AdminConfig):
    """The stock admin app, with `admin.site` replaced by the OTP-guarded site."""

    default = False
    default_site = "accounts.sites.NationalAdminSite"
