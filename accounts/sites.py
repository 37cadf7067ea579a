from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _

from accounts.forms import TOTPAdminAuthenticationForm
from accounts.models import Role


class TOTPAdminSite(AdminSite):
    """An admin site that requires a password and a verified TOTP device."""

    login_form = TOTPAdminAuthenticationForm
    login_template = "admin/totp_login.html"
    allowed_role: Role

    def has_permission(self, request) -> bool:
        user = request.user
        # SECURITY: a password alone is never enough; nor is the wrong role.
        return (
            user.is_active
            and user.is_staff
            and user.role == self.allowed_role
            and user.is_verified()
        )


class NationalAdminSite(TOTPAdminSite):
    site_header = _("Behörighetsportalen – national administration")
    site_title = _("National administration")
    index_title = _("National administration")
    allowed_role = Role.NATIONAL_ADMIN


class HuvudmanSite(TOTPAdminSite):
    """/huvudman/: huvudman staff manage their own huvudman's school units,
    principals and contact person. Every ModelAdmin on it scopes its queryset
    through `permissions.policy` (see schools/huvudman_admin.py)."""

    site_header = _("Behörighetsportalen – huvudman")
    site_title = _("Huvudman administration")
    index_title = _("Your huvudman")
    allowed_role = Role.HUVUDMAN_STAFF
