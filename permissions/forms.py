"""Forms of E-tjänster's school administration: input validation only."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import validate_person_name
from permissions.csv_import import SUBJECT_MODE_CHOICES, SubjectMode
from permissions.models import Membership, Subject
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
        # As the catalogue writes it ("Matematik (grundskola)"), plus the code
        # that the CSV import uses.
        return f"{obj.name} ({obj.get_level_display().lower()}, {obj.code})"


def _max_length(name: str) -> int:
    """The database column's limit, so a form never accepts what it cannot store."""
    return User._meta.get_field(name).max_length


class PersonForm(forms.Form):
    """A person's name and e-mail, as an account stores them."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=_max_length("first_name"),
        validators=[validate_person_name],
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=_max_length("last_name"),
        validators=[validate_person_name],
    )
    email = forms.EmailField(label=_("E-mail"), max_length=_max_length("email"))


class TeacherRegisterForm(PersonForm):
    subjects = SubjectChoiceField()
    send_email = forms.BooleanField(label=_("Also e-mail the slip to the teacher"), required=False)


class SubjectGrantForm(forms.Form):
    subjects = SubjectChoiceField()


class TestAdminIssueForm(PersonForm):
    """A test administrator: a name and an e-mail; username, password and card are issued."""


class SchoolYearRenewForm(forms.Form):
    """The new-school-year page: which of last year's memberships to keep.

    The choices are exactly the memberships the page offered, compared as
    text: a forged or malformed id ("²", a 25-digit number that no database
    integer holds, another school's membership) is a form error, never a
    query and never a 500.
    """

    keep = forms.MultipleChoiceField(required=False, label=_("Keep"))
    remove_unkept = forms.BooleanField(required=False)

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = {str(membership.pk): membership for membership in memberships}
        self.fields["keep"].choices = [(pk, pk) for pk in self.offered]

    def clean_keep(self) -> list[Membership]:
        return [self.offered[pk] for pk in self.cleaned_data["keep"]]


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    mode = forms.ChoiceField(
        label=_("Teachers already at this school"),
        choices=SUBJECT_MODE_CHOICES,
        initial=SubjectMode.ADD,
        widget=forms.RadioSelect,
        # Not chosen (an older form, a script) is the safe default: add.
        required=False,
    )

    def clean_mode(self) -> str:
        return self.cleaned_data["mode"] or SubjectMode.ADD


class ImportApplyForm(forms.Form):
    token = forms.CharField(max_length=64)


class ImportPickupForm(forms.Form):
    pickup = forms.IntegerField(min_value=1, max_value=2**62)
    key = forms.CharField(max_length=64)
    what = forms.ChoiceField(choices=[("slips", "slips"), ("report", "report")])


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
