from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice


class TOTPAdminAuthenticationForm(AdminAuthenticationForm):
    """Password and the six-digit code from the user's authenticator app.

    Verifies only the user's own confirmed TOTP device, through
    `django_otp.verify_token` (a transaction with the device row locked), so
    TOTP throttling is shared by every app server and no other device type
    (a matrix card) can be tried at this door.
    """

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "required": True}
        ),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_token": _(
            "The code was wrong or has expired, or too many attempts were made. "
            "Wait a moment and try again with a new code."
        ),
        "no_device": _("This account has no authenticator app. Ask your administrator."),
    }

    def clean(self):
        cleaned_data = super().clean()
        user = self.get_user()
        token = "".join((cleaned_data.get("otp_token") or "").split())
        device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
        if device is None:
            raise forms.ValidationError(self.error_messages["no_device"], code="no_device")
        verified = verify_token(user, device.persistent_id, token) if token else None
        if verified is None:
            raise forms.ValidationError(self.error_messages["invalid_token"], code="invalid_token")
        # django_otp's user_logged_in handler stores this device in the session.
        user.otp_device = verified
        return cleaned_data


class PasswordLoginForm(forms.Form):
    """Step 1 of either login. Validates input only; the view checks the password."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
