"""Forms every door shares: the username and password of a login, a changed
password, and the "try again at …" wording of the password throttle."""

import datetime
import functools

from django import forms
from django.contrib.auth import password_validation
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.throttle import throttled


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


def username_field() -> forms.CharField:
    """A username as every login and code form asks for it (a password
    manager fills it; no capitals or spelling help from the phone)."""
    return forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


def email_code_field() -> forms.CharField:
    """A code from an e-mail (the phone offers it from the message)."""
    return forms.CharField(
        label=_("Code from the e-mail"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}
        ),
    )


class PasswordLoginForm(forms.Form):
    """Step 1 of either login. Validates input only; the view checks the password."""

    username = username_field()
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


class LinkCodeRequestForm(forms.Form):
    """The school account's first login, proved by mail: which account to mail."""

    account = forms.CharField(
        label=_("Username or e-mail address"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class LinkCodeForm(forms.Form):
    """The username and the mailed code that link a school account."""

    username = username_field()
    code = email_code_field()

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


@functools.lru_cache(maxsize=8)
def password_rules_html(language: str | None) -> SafeString:
    """The password validators' rules (AUTH_PASSWORD_VALIDATORS) as Django
    lists them, once per language: the form's help text is read several
    times per render, and the rules do not change while the server runs."""
    return password_validation.password_validators_help_text_html()


@receiver(setting_changed)
def _password_rules_changed(*, setting: str, **kwargs) -> None:
    # As Django forgets its validators when a test changes them.
    if setting == "AUTH_PASSWORD_VALIDATORS":
        password_rules_html.cache_clear()
        unbound_password_change_html.cache_clear()


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
        help_text=lazy(lambda: password_rules_html(get_language()), SafeString)(),
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


@functools.lru_cache(maxsize=8)
def unbound_password_change_html(language: str | None) -> SafeString:
    """An empty OwnPasswordChangeForm as `{{ form }}` writes it, once per
    language: it holds nothing of the person it is shown to (no values, the
    same ids and rules for everyone), and its three fields with the rules'
    help text were a fifth of the teacher's account page."""
    return OwnPasswordChangeForm(user=None).render()
