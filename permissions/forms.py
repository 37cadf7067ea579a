"""Forms of E-tjänster's school administration: input validation only."""

from django import forms
from django.utils.translation import gettext_lazy as _

from permissions.models import Subject
from permissions.policy import MembershipState


class SubjectChoiceField(forms.ModelMultipleChoiceField):
    """Subjects chosen by their official code (the public contract's values)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Subject.objects.order_by("level", "name"),
            to_field_name="code",
            required=False,
            label=_("Subjects"),
            **kwargs,
        )

    def label_from_instance(self, obj: Subject) -> str:
        return f"{obj.name} ({obj.get_level_display()}, {obj.code})"


class TeacherRegisterForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    subjects = SubjectChoiceField()
    send_email = forms.BooleanField(label=_("Also e-mail the slip to the teacher"), required=False)


class SubjectGrantForm(forms.Form):
    subjects = SubjectChoiceField()


class TestAdminIssueForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), max_length=254)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


SORTS = {
    "name": ("user__last_name", "user__first_name", "pk"),
    "-name": ("-user__last_name", "-user__first_name", "-pk"),
    "username": ("user__username",),
    "-username": ("-user__username",),
    "valid_until": ("valid_until", "user__last_name", "pk"),
    "-valid_until": ("-valid_until", "user__last_name", "pk"),
}


class TeacherFilterForm(forms.Form):
    q = forms.CharField(label=_("Search name, username or e-mail"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))] + list(MembershipState.choices),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name")),
            ("-name", _("Name, reversed")),
            ("username", _("Username")),
            ("valid_until", _("Valid until")),
            ("-valid_until", _("Valid until, latest first")),
        ],
    )
