"""/huvudman/: the huvudman's identity providers for "Logga in med skolans
konto" (federated login, docs/federation.md), each change audited."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.huvudman.site import ScopedAdmin, huvudman_site
from federation.models import IdentityProvider
from federation.saml import metadata_parses
from federation.services import identity_provider_save
from permissions.policy import can_manage_huvudman, can_use_huvudman_site, huvudman_of_staff
from web.request import audit_context

# The largest metadata file accepted (one IdP's metadata is a few kilobytes).
METADATA_MAX_BYTES = 512 * 1024


class IdentityProviderForm(forms.ModelForm):
    """The IdP's metadata as a file or pasted; checked to describe the entity ID."""

    metadata_file = forms.FileField(
        label=_("Metadata file"),
        required=False,
        help_text=_("The IdP's SAML metadata (XML). Or paste it below."),
    )

    class Meta:
        model = IdentityProvider
        fields = (
            "entity_id",
            "name",
            "metadata_xml",
            "eppn_scopes",
            "mfa_contexts",
            "trust_email",
            "teachers_keep_password",
            "is_active",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metadata_xml"].required = False

    def clean(self):
        data = super().clean()
        upload = data.get("metadata_file")
        if upload is not None:
            if upload.size > METADATA_MAX_BYTES:
                raise forms.ValidationError(gettext("The metadata file is too large."))
            try:
                data["metadata_xml"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    gettext("The metadata file is not UTF-8 text.")
                ) from None
        xml, entity_id = data.get("metadata_xml") or "", data.get("entity_id") or ""
        if not xml:
            raise forms.ValidationError(gettext("Upload or paste the IdP's metadata."))
        if entity_id and not metadata_parses(xml, entity_id):
            raise forms.ValidationError(
                gettext(
                    "The metadata does not describe an identity provider with the entity ID "
                    "%(entity_id)s and a single sign-on service (HTTP-Redirect)."
                )
                % {"entity_id": entity_id}
            )
        if not data.get("eppn_scopes", "").strip():
            self.add_error("eppn_scopes", gettext("Give at least one scope."))
        self.instance.metadata_xml = xml
        return data


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
