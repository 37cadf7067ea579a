"""/admin/: every huvudman's identity providers, for the national admins
(docs/federation.md), each change through the audited service."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.forms import FederationForm, FederationPickForm, IdentityProviderForm
from core.refusals import Refused
from federation.aggregate import aggregate_load
from federation.federations import federation_idps_pick, federation_load
from federation.models import FederatedIdentity, Federation, IdentityProvider
from federation.services import identity_provider_save
from web.request import audit_context


class NationalIdentityProviderForm(IdentityProviderForm):
    class Meta(IdentityProviderForm.Meta):
        fields = ("huvudman", *IdentityProviderForm.Meta.fields)


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = NationalIdentityProviderForm
    list_display = ("__str__", "huvudman", "entity_id", "federation", "trust_email", "is_active")
    list_select_related = ("huvudman", "federation")
    list_filter = ("is_active", "trust_email", "federation")
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


@admin.register(Federation)
class FederationAdmin(admin.ModelAdmin):
    """A national federation's signed aggregate: stored only once it verifies
    with the federation's certificate; "Pick identity providers" gives each
    huvudman the IdPs of it that it uses (docs/federation.md)."""

    form = FederationForm
    list_display = ("name", "metadata_url", "loaded_at", "pick_link")
    readonly_fields = ("loaded_at",)
    actions = ["load_again"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change) -> None:
        xml, idps = form.loaded
        federation_load(
            context=audit_context(request), federation=obj, xml=xml, idps=idps, source=form.source
        )
        messages.info(
            request,
            gettext("The aggregate was verified and loaded: %(count)d identity providers.")
            % {"count": len(idps)},
        )

    def log_addition(self, request, obj, message):
        # The audit log has it (written by the service).
        return None

    log_change = log_addition

    def has_delete_permission(self, request, obj=None) -> bool:
        # Its IdPs keep their federation; a federation no longer used simply stays.
        return False

    @admin.display(description=_("Identity providers"))
    def pick_link(self, obj: Federation):
        url = reverse("admin:federation_federation_pick", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Pick for a huvudman"))

    @admin.action(description=_("Load the aggregate again from its URL"))
    def load_again(self, request, queryset) -> None:
        for federation in queryset.exclude(metadata_url=""):
            try:
                xml, idps = aggregate_load(
                    certificate=federation.certificate, url=federation.metadata_url
                )
            except Refused as refused:
                messages.error(request, f"{federation.name}: {refused.message}")
                continue
            federation_load(
                context=audit_context(request),
                federation=federation,
                xml=xml,
                idps=idps,
                source="url",
            )
            messages.success(request, gettext("%(name)s: loaded.") % {"name": federation.name})

    def get_urls(self):
        return [
            path(
                "<int:pk>/pick/",
                self.admin_site.admin_view(self.pick_view),
                name="federation_federation_pick",
            ),
            *super().get_urls(),
        ]

    def pick_view(self, request, pk: int):
        """Which of the aggregate's IdPs a huvudman uses (created or updated from it)."""
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        federation = get_object_or_404(Federation, pk=pk)
        try:
            _xml, offered = aggregate_load(
                certificate=federation.certificate, xml=federation.metadata_xml
            )
        except Refused as refused:
            messages.error(request, refused.message)
            return HttpResponseRedirect(reverse("admin:federation_federation_change", args=[pk]))
        form = FederationPickForm(
            request.POST or None, offered=offered, initial=_pick_initial(request, federation)
        )
        if request.method == "POST" and form.is_valid():
            try:
                federation_idps_pick(
                    context=audit_context(request),
                    federation=federation,
                    huvudman=form.cleaned_data["huvudman"],
                    offered=offered,
                    picked=set(form.cleaned_data["entity_ids"]),
                )
            except Refused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, gettext("The huvudman's identity providers are saved."))
                return HttpResponseRedirect(reverse("admin:federation_identityprovider_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Pick identity providers from %(name)s") % {"name": federation},
            "opts": self.opts,
            "federation": federation,
            "form": form,
        }
        return TemplateResponse(request, "admin/federation/pick.html", context)


def _pick_initial(request, federation: Federation) -> dict:
    """The huvudman named in ?huvudman= and the IdPs it uses from this federation."""
    huvudman = request.GET.get("huvudman", "")
    if not huvudman.isdigit():
        return {}
    used = IdentityProvider.objects.filter(
        federation=federation, huvudman_id=int(huvudman), is_active=True
    ).values_list("entity_id", flat=True)
    return {"huvudman": int(huvudman), "entity_ids": list(used)}
