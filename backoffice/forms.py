"""Forms of the two admin sites: the login (password and TOTP code in one
form), the authenticator enrolment, and the huvudman staff's own forms."""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.doors import Door
from accounts.models import User
from accounts.services.staff import admin_login
from core.refusals import REFUSAL_MESSAGES, RefusalCode
from federation.models import IdentityProvider
from federation.saml import metadata_parses
from schools.models import Huvudman, SchoolUnit
from schools.validators import normalize_organisationsnummer
from web.forms import NewPasswordForm, throttle_message, with_retry_time
from web.request import audit_context, trusted_device


class HuvudmanForm(forms.ModelForm):
    class Meta:
        model = Huvudman
        fields = ("name", "organisationsnummer", "contact_name", "contact_email", "contact_phone")

    def clean_organisationsnummer(self) -> str:
        # Accept the ways people write it (with or without dash or century).
        return normalize_organisationsnummer(self.cleaned_data["organisationsnummer"])


class SchoolUnitForm(forms.ModelForm):
    """A school unit as huvudman staff edit it; the huvudman is always theirs."""

    class Meta:
        model = SchoolUnit
        fields = ("code", "name", "forms")
        widgets = {"forms": forms.CheckboxSelectMultiple}
        error_messages = {
            "code": {"unique": _("A school unit with this skolenhetskod already exists.")},
            "forms": {"required": _("Choose at least one school form.")},
        }

    def clean_code(self) -> str:
        return (self.cleaned_data.get("code") or "").strip()


class HuvudmanContactForm(forms.ModelForm):
    """Only the contact person: name and organisation number are national data."""

    class Meta:
        model = Huvudman
        fields = ("contact_name", "contact_email", "contact_phone")


class PrincipalIssueForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    email = forms.EmailField(label=_("E-mail"), max_length=User._meta.get_field("email").max_length)
    school_units = forms.ModelMultipleChoiceField(
        label=_("School units"),
        queryset=SchoolUnit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one school unit.")},
    )

    def __init__(self, *args, school_units, **kwargs):
        super().__init__(*args, **kwargs)
        # SECURITY: only the staff member's own units can be chosen; another
        # huvudman's unit posted by id is an invalid choice.
        self.fields["school_units"].queryset = school_units


class PrincipalRegenerateForm(forms.Form):
    password = forms.BooleanField(label=_("New password"), required=False)
    card = forms.BooleanField(label=_("New matrix card"), required=False)

    def clean(self):
        cleaned_data = super().clean()
        if not (cleaned_data.get("password") or cleaned_data.get("card")):
            raise forms.ValidationError(_("Choose a new password, a new card or both."))
        return cleaned_data


class SchoolUnitChoiceForm(forms.Form):
    school_unit = forms.ModelChoiceField(label=_("School unit"), queryset=SchoolUnit.objects.none())

    def __init__(self, *args, school_units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_unit"].queryset = school_units


class PrincipalLinkForm(SchoolUnitChoiceForm):
    replaces = forms.BooleanField(
        label=_("The principal takes over the school from its current principal"),
        help_text=_(
            "The current principal's link to the school ends (an account with no other "
            "school is deactivated). Both are e-mailed who did it, and the new principal "
            "is sent to the school's handover."
        ),
        required=False,
    )


class TOTPAdminAuthenticationForm(AdminAuthenticationForm):
    """Password and the six-digit code from the user's authenticator app.

    The checks live in `accounts.services.staff.admin_login` (the shared password
    throttle, the site's role, the user's own confirmed TOTP device through
    `django_otp.verify_token`, and the audit log). This form only collects
    the input and shows one message for every failure.
    """

    door: Door = Door.ADMIN

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        # Not required in the browser either: the first login, with a
        # one-time password, has no app yet (it is enrolled next).
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("At your first login, with a one-time password, leave this empty."),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        # SECURITY: one message for an unknown user, a wrong password, a
        # missing or wrong code and an account without an authenticator app,
        # so the form never tells that the password was right.
        "invalid_login": _(
            "The username, password or code is wrong. Codes change every 30 seconds: "
            "use the one your app shows now."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # True when the user logs in with a one-time password, to enrol.
        self.enrol = False
        # The code is checked together with the password, so an empty code
        # is the same failure as a wrong one (counted, same message).
        self.fields["otp_token"].required = False

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            # A field error ("This field is required") is already shown; nothing is counted.
            return self.cleaned_data
        result = admin_login(
            context=audit_context(self.request),
            username=username,
            password=password,
            token=self.cleaned_data.get("otp_token") or "",
            door=self.door,
            device=trusted_device(self.request, username),
        )
        if result.user is not None:
            self.user_cache = result.user
            self.enrol = result.enrol
            return self.cleaned_data
        if result.throttled:
            message = throttle_message(result.retry_at)
        elif result.refused == RefusalCode.ACCOUNT_INACTIVE:
            message = gettext(
                "Your account is deactivated. Ask the national administration to reactivate "
                "it: write to %(email)s."
            ) % {"email": settings.SUPPORT_EMAIL}
        elif result.refused is not None:
            message = str(REFUSAL_MESSAGES[result.refused])
        else:
            message = with_retry_time(str(self.error_messages["invalid_login"]), result.retry_at)
        raise forms.ValidationError(message, code="invalid_login")


class HuvudmanAuthenticationForm(TOTPAdminAuthenticationForm):
    door = Door.HUVUDMAN


class TOTPEnrolmentForm(NewPasswordForm):
    """First login to an admin site: the code the new app shows, and one's own password."""

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    field_order = ["otp_token", "new_password1", "new_password2"]

    def clean_new_password2(self) -> str:
        password = super().clean_new_password2()
        # SECURITY (ASVS 6.4.1): the one-time password never becomes the long-term one.
        if password and self.user.check_password(password):
            raise forms.ValidationError(
                _("Choose a password of your own, not the one-time password."), code="same"
            )
        return password


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
