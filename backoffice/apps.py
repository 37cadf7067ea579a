from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """The two admin sites: /admin/ (national admins) and /huvudman/ (huvudman staff)."""

    default = True
    name = "backoffice"
    verbose_name = _("Administration")


class NationalAdminConfig(admin_apps.AdminConfig):
    """The stock admin app, with `admin.site` replaced by the OTP-guarded site."""

    default = False
    default_site = "backoffice.sites.NationalAdminSite"

    def ready(self) -> None:
        super().ready()
        # The admin's template tags import the admin site: ready only now.
        from django.contrib.admin.templatetags import admin_list

        # Django 5.2 writes a boolean column's icon as alt="True"/"False"
        # whatever the language. Every boolean icon of both admin sites comes
        # from this one function (admin_list, helpers and utils look it up
        # here), so a translated alt text is given in this one place.
        admin_list._boolean_icon = boolean_icon


def boolean_icon(field_val) -> str:
    name = {True: "yes", False: "no", None: "unknown"}[field_val]
    alt = {True: gettext("Yes"), False: gettext("No"), None: gettext("Unknown")}[field_val]
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{name}.svg"), alt)
