import datetime

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.doors import Door
from accounts.services.staff import admin_login
from accounts.throttle import throttled
from core.refusals import REFUSAL_MESSAGES, RefusalCode
from web.request import audit_context, trusted_device


def clock(moment: datetime.datetime) -> str:
    """Local wall-clock time for "try again at …"; seconds only when the wait is short."""
    local = timezone.localtime(moment)
    if moment - timezone.now() < datetime.timedelta(minutes=1):
        return local.strftime("%H:%M:%S")
    return local.strftime("%H:%M")


def throttle_message(retry_at: datetime.datetime) -> str:
    """ "För många försök, vänta till kl. …": the one answer during a delay.

    SECURITY (ASVS 6.3.1): while the throttle delays, the password is not
    looked at, so the answer never says it was wrong; the owner learns when
    to try again, and that is all anyone learns.
    """
    return throttled(retry_at=retry_at, reason="").message


def with_retry_time(message: str, retry_at: datetime.datetime | None) -> str:
    """`message` (this attempt was wrong), and when the next one may be made."""
    if retry_at is not None and retry_at > timezone.now():
        message += " " + throttle_message(retry_at)
    return message


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

    def clean_username(self) -> str:
        """Every username is lower case (generated, `accounts.usernames`, or
        lowercased when chosen), so one typed with Caps Lock or a capital
        first letter still logs in; the throttle counts it as one name too."""
        return self.cleaned_data["username"].lower()


class OwnPasswordChangeForm(forms.Form):
    """One's own new password. Validates the input only: the current password
    is checked by `accounts.services.passwords.own_password_change`, under the throttle."""

    old_password = forms.CharField(
        label=_("Current password"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        # Lazy: read in the language of the request, not of the import.
        help_text=lazy(password_validation.password_validators_help_text_html, SafeString)(),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_password2(self) -> str:
        first = self.cleaned_data.get("new_password1")
        second = self.cleaned_data.get("new_password2")
        if first and second and first != second:
            raise forms.ValidationError(_("The two new passwords differ."), code="mismatch")
        if second:
            password_validation.validate_password(second, self.user)
        return second


class NewPasswordForm(forms.Form):
    """A password the person chooses (twice), validated like every password here."""

    new_password1 = OwnPasswordChangeForm.base_fields["new_password1"]
    new_password2 = OwnPasswordChangeForm.base_fields["new_password2"]

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    clean_new_password2 = OwnPasswordChangeForm.clean_new_password2


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
