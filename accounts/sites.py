from collections.abc import Callable

from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _

from accounts.forms import HuvudmanAuthenticationForm, TOTPAdminAuthenticationForm
from permissions import policy


class TOTPAdminSite(AdminSite):
    """An admin site that requires a password and a verified TOTP device."""

    login_form = TOTPAdminAuthenticationForm
    login_template = "admin/totp_login.html"
    # The policy function that says who may use this site once logged in.
    may_open: Callable[..., bool]

    def has_permission(self, request) -> bool:
        # SECURITY: a password alone is never enough; nor is the wrong role.
        return self.may_open(user=request.user)


class NationalAdminSite(TOTPAdminSite):
    site_header = _("Behörighetsportalen – national administration")
    site_title = _("National administration")
    index_title = _("National administration")
    may_open = staticmethod(policy.can_open_national_admin)


class HuvudmanSite(TOTPAdminSite):
    """/huvudman/: huvudman staff manage their own huvudman's school units,
    principals and contact person. Every ModelAdmin on it scopes its queryset
    through `permissions.policy` (see schools/huvudman_admin.py)."""

    site_header = _("Behörighetsportalen – huvudman")
    site_title = _("Huvudman administration")
    index_title = _("Your huvudman")
    login_form = HuvudmanAuthenticationForm
    may_open = staticmethod(policy.can_open_huvudman_site)
