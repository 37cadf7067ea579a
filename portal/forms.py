import copy

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from core.prepared import Prepared
from core.widgets import PlainSelect
from permissions.models import MaterialLevel, Subject
from portal.models import MaterialKind, TicketCategory
from schools.validators import validate_skolenhetskod
from web.forms import NewPasswordForm

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
    # The subject's code in the query string; cleaned, the subject's id.
    subject = forms.ChoiceField(
        label=_("Subject"),
        required=False,
        widget=PlainSelect,
        # A model choice's own message, as before the choices were rows.
        error_messages={
            "invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"]
        },
    )
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
        levels = {value: str(label).lower() for value, label in MaterialLevel.choices}
        subjects = SUBJECTS()
        self.subject_ids = {row["code"]: row["pk"] for row in subjects}
        self.fields["subject"].choices = [
            ("", _("All subjects")),
            *((row["code"], f"{row['name']} ({levels[row['level']]})") for row in subjects),
        ]

    def clean_subject(self) -> int | None:
        code = self.cleaned_data.get("subject")
        return self.subject_ids[code] if code else None


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

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    code = forms.CharField(
        label=_("Code from the e-mail"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}
        ),
    )
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
