"""/admin/: every huvudman's identity providers, for the national admins
(docs/federation.md), each change through the audited service."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from backoffice.forms import IdentityProviderForm
from federation.models import FederatedIdentity, IdentityProvider
from federation.services import identity_provider_save
from web.request import audit_context


class NationalIdentityProviderForm(IdentityProviderForm):
    class Meta(IdentityProviderForm.Meta):
        fields = ("huvudman", *IdentityProviderForm.Meta.fields)


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = NationalIdentityProviderForm
    list_display = ("__str__", "huvudman", "entity_id", "trust_email", "is_active")
    list_select_related = ("huvudman",)
    list_filter = ("is_active", "trust_email")
    search_fields = ("entity_id", "name", "huvudman__name")
    search_help_text = _("Search entity ID, name or huvudman")
    show_full_result_count = False

    def save_model(self, request, obj, form, change) -> None:
        identity_provider_save(context=audit_context(request), idp=obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Switched off ("in use"), never deleted: the links and the log keep their IdP.
        return False


@admin.register(FederatedIdentity)
class FederatedIdentityAdmin(admin.ModelAdmin):
    """Read-only: links are made by their owner's proof and removed by the owner."""

    list_display = ("subject", "user", "idp", "proof", "linked_at", "last_login_at")
    list_select_related = ("user", "idp")
    search_fields = ("subject", "user__username")
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
