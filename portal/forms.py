import copy
import functools

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.prepared import Prepared
from core.widgets import PlainSelect
from permissions.models import MaterialLevel, Subject
from portal.models import MaterialKind, TicketCategory
from schools.validators import validate_skolenhetskod
from web.forms import NewPasswordForm, email_code_field, username_field

# PERFORMANCE: the filter's subjects as rows from a statement compiled once
# (core.prepared), not model instances through a model choice field.
SUBJECTS = Prepared(
    lambda: Subject.objects.order_by("level", "name").values("pk", "code", "name", "level")
)


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search by title"), required=False, max_length=100)
    level = forms.ChoiceField(
        label=_("Level"),
        required=False,
        choices=[("", _("All levels")), *MaterialLevel.choices],
        widget=PlainSelect,
    )
    # The subject's code in the query string; cleaned, the subject's id. A
    # text field checked against the subjects in clean_subject, its select's
    # options set on the widget alone (see __init__).
    subject = forms.CharField(label=_("Subject"), required=False, widget=PlainSelect)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *MaterialKind.choices],
        widget=PlainSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        # Group the subjects by level in the select, the way teachers look for
        # them; each level's name is translated once, not once per subject.
        subjects = SUBJECTS()
        self.subject_ids = {row["code"]: row["pk"] for row in subjects}
        # PERFORMANCE: the options as the select writes them, made once per
        # language and list of subjects (read afresh on every request, and
        # part of the key); a choice field would copy and normalize them
        # for every form.
        self.fields["subject"].widget.choices = subject_options(
            get_language(),
            tuple((row["pk"], row["code"], row["name"], row["level"]) for row in subjects),
        )

    def clean_subject(self) -> int | None:
        code = self.cleaned_data.get("subject")
        if code and code not in self.subject_ids:
            # A model choice's own message, as when the choices were models.
            raise forms.ValidationError(
                forms.ModelChoiceField.default_error_messages["invalid_choice"],
                code="invalid_choice",
            )
        return self.subject_ids[code] if code else None


@functools.lru_cache(maxsize=16)
def subject_options(language: str | None, subjects: tuple) -> tuple:
    """The subject filter's options, grouped by level the way teachers look
    for them: (code, "name (level)"), each level's name translated once."""
    levels = {value: str(label).lower() for value, label in MaterialLevel.choices}
    return (
        ("", str(_("All subjects"))),
        *((code, f"{name} ({levels[level]})") for _pk, code, name, level in subjects),
    )


class ContactForm(forms.Form):
    # Optional only so that a post without it (an old page, a script) is a
    # question rather than an error; the select always sends a value.
    category = forms.ChoiceField(
        label=_("What is it about?"),
        choices=TicketCategory.choices,
        initial=TicketCategory.QUESTION,
        required=False,
    )
    # WCAG 1.3.5: the writer's own name and address, so browsers can fill them.
    name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(
        label=_("Your question"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("At most 5,000 characters. Never write a password or card cells here."),
    )
    # SECURITY: a honeypot. Hidden from people (and from screen readers by
    # the template); bots fill every field. A filled one is dropped silently.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)

    def clean_category(self) -> str:
        return self.cleaned_data.get("category") or TicketCategory.QUESTION


class HuvudmanLookupForm(forms.Form):
    skolenhetskod = forms.CharField(
        label=_("Skolenhetskod"),
        max_length=8,
        validators=[validate_skolenhetskod],
        help_text=_("Eight digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("The address your huvudman registered for you as principal."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class EmailCodeForm(forms.Form):
    """A code from an e-mail: confirm (or decline) a school's registration,
    or choose a new password. Input validation only; the service checks the code."""

    username = username_field()
    code = email_code_field()
    new_password1 = copy.deepcopy(NewPasswordForm.base_fields["new_password1"])
    new_password2 = copy.deepcopy(NewPasswordForm.base_fields["new_password2"])

    def __init__(self, *args, decline: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.decline = decline
        # Declining needs only the code.
        self.fields["new_password1"].required = not decline
        self.fields["new_password2"].required = not decline

    def clean_new_password2(self) -> str:
        if self.decline:
            return ""
        first = self.cleaned_data.get("new_password1")
        second = self.cleaned_data.get("new_password2")
        if first and second and first != second:
            raise forms.ValidationError(_("The two new passwords differ."), code="mismatch")
        if second:
            password_validation.validate_password(second)
        return second


class ForgotPasswordForm(forms.Form):
    """“Glömt lösenordet?”, step 1: what the teacher remembers."""

    username = forms.CharField(
        label=_("Username or e-mail address"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
