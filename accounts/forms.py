import datetime

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.network import audit_context
from accounts.services import Door, admin_login


def clock(moment: datetime.datetime) -> str:
    """Local wall-clock time for "try again at …"; seconds only when the wait is short."""
    local = timezone.localtime(moment)
    if moment - timezone.now() < datetime.timedelta(minutes=1):
        return local.strftime("%H:%M:%S")
    return local.strftime("%H:%M")


def with_retry_time(message: str, retry_at: datetime.datetime | None) -> str:
    """`message`, and when the throttle lets the next attempt through."""
    if retry_at is not None and retry_at > timezone.now():
        message += " " + gettext("Too many attempts: try again at %(time)s.") % {
            "time": clock(retry_at)
        }
    return message


class TOTPAdminAuthenticationForm(AdminAuthenticationForm):
    """Password and the six-digit code from the user's authenticator app.

    The checks live in `accounts.services.admin_login` (the shared password
    throttle, the site's role, the user's own confirmed TOTP device through
    `django_otp.verify_token`, and the audit log). This form only collects
    the input and shows one message for every failure.
    """

    door: Door = Door.ADMIN

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "required": True}
        ),
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
        )
        if result.user is None:
            raise forms.ValidationError(
                with_retry_time(str(self.error_messages["invalid_login"]), result.retry_at),
                code="invalid_login",
            )
        self.user_cache = result.user
        return self.cleaned_data


class HuvudmanAuthenticationForm(TOTPAdminAuthenticationForm):
    door = Door.HUVUDMAN


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
