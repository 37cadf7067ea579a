"""/huvudman/: the huvudman's identity providers for "Logga in med skolans
konto" (federated login, docs/federation.md), each change audited."""

from django.contrib import admin

from backoffice.forms import IdentityProviderForm
from backoffice.huvudman.site import ScopedAdmin, huvudman_site
from federation.models import IdentityProvider
from federation.services import identity_provider_save
from permissions.policy import can_manage_huvudman, can_use_huvudman_site, huvudman_of_staff
from web.request import audit_context


@admin.register(IdentityProvider, site=huvudman_site)
class IdentityProviderAdmin(ScopedAdmin):
    form = IdentityProviderForm
    list_display = ("__str__", "entity_id", "trust_email", "teachers_keep_password", "is_active")

    def get_queryset(self, request):
        own = huvudman_of_staff(user=request.user)
        return IdentityProvider.objects.filter(huvudman_id=own.pk if own else None)

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return can_use_huvudman_site(user=request.user)
        return can_manage_huvudman(user=request.user, huvudman=obj.huvudman)

    has_change_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return can_use_huvudman_site(user=request.user)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.huvudman = huvudman_of_staff(user=request.user)
        identity_provider_save(context=audit_context(request), idp=obj)
