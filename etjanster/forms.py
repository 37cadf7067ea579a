"""Forms of E-tjänster's school administration: input validation only."""

from django import forms
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import validate_person_name
from core.forms import option_html
from core.prepared import Prepared
from core.widgets import PlainSelect
from permissions.imports.parse import SUBJECT_MODE_CHOICES, SubjectMode
from permissions.models import MaterialLevel, Membership, Subject
from permissions.policy import KNOWN_NAMES, MembershipState


class SubjectPicker(forms.CheckboxSelectMultiple):
    """Checkboxes grouped by material level: first the levels the school
    reaches, the rest behind a native disclosure ("Show all subjects") that
    works without JavaScript and opens by itself when one of its subjects is
    chosen. Every subject stays choosable: a grant is the principal's call.
    """

    template_name = "forms/widgets/subject_picker.html"
    # Set by the form: the levels the school's forms reach (None: all).
    reached_levels: frozenset[str] | None = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        labels = dict(MaterialLevel.choices)
        reached: dict[str, list] = {}
        other: dict[str, list] = {}
        other_chosen = False
        for _group, options, _index in context["widget"]["optgroups"]:
            for option in options:
                # PERFORMANCE: the option's markup written in Python, not
                # three template includes per subject (core.forms.option_html).
                option["html"] = option_html(option)
                level = option["value"].instance.level
                if self.reached_levels is None or level in self.reached_levels:
                    reached.setdefault(level, []).append(option)
                else:
                    other.setdefault(level, []).append(option)
                    other_chosen = other_chosen or option["selected"]
        context["widget"]["reached"] = [(labels[level], opts) for level, opts in reached.items()]
        context["widget"]["other"] = [(labels[level], opts) for level, opts in other.items()]
        context["widget"]["other_chosen"] = other_chosen
        return context


class SubjectChoiceField(forms.ModelMultipleChoiceField):
    """Subjects chosen by their official code (the public contract's values)."""

    widget = SubjectPicker

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

    # Another person's name and address: the browser must not offer to fill
    # in the principal's own (autocomplete="off"; WCAG 1.3.5 covers the
    # user's own data only).
    first_name = forms.CharField(
        label=_("First name"),
        max_length=_max_length("first_name"),
        validators=[validate_person_name],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=_max_length("last_name"),
        validators=[validate_person_name],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=_max_length("email"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class SubjectsForm(forms.Form):
    """A form with the subject picker; `reached_levels` (from
    `policy.levels_reached_by`) decides which subjects it shows first."""

    def __init__(self, *args, reached_levels: frozenset[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subjects"].widget.reached_levels = reached_levels


class TeacherRegisterForm(PersonForm, SubjectsForm):
    subjects = SubjectChoiceField()
    send_email = forms.BooleanField(label=_("Also e-mail the slip to the teacher"), required=False)


class SubjectGrantForm(SubjectsForm):
    subjects = SubjectChoiceField(
        help_text=_("The subjects this teacher may read protected material in.")
    )


class TeacherBulkForm(forms.Form):
    """What to do with the teachers ticked in the list (`teacher` holds their
    usernames; the view looks them up at this school only)."""

    ACTIONS = {
        "grant": _("Grant the subject"),
        "revoke": _("Remove the subject"),
        "print": _("Print their slips (PDF)"),
        "mail": _("E-mail their slips"),
    }
    # The most that one form acts on (the list shows 100 a page; a PDF holds
    # at most `permissions.slips.SLIPS_PER_PDF` slips).
    MOST = 200

    # PlainSelect: the subject select's ~45 options were a template include each.
    action = forms.ChoiceField(label=_("Do"), choices=list(ACTIONS.items()), widget=PlainSelect)
    subject = forms.ModelChoiceField(
        queryset=Subject.objects.order_by("level", "name"),
        to_field_name="code",
        required=False,
        label=_("Subject"),
        empty_label=_("Choose a subject"),
        widget=PlainSelect,
    )

    def __init__(self, *args, listed: bool = False, **kwargs):
        """`listed`: the form as the teacher list shows it (not bound), its
        subject select written from rows of one prepared statement.

        PERFORMANCE: the model choice field made ~45 subjects as model
        instances through a server-side cursor on every view of the list;
        the options are the same (Subject.__str__ as the label, the code as
        the value; a test compares them). A bound form validates through the
        field's queryset as before."""
        super().__init__(*args, **kwargs)
        if listed:
            # The widget's choices only (what it writes; an unbound form
            # never cleans), as an iterator as the model choice field's are,
            # which Django does not normalise item by item.
            field = self.fields["subject"]
            field.widget.choices = _Choices(
                [
                    ("", field.empty_label),
                    *((row["code"], f"{row['name']} ({row['code']})") for row in _BULK_SUBJECTS()),
                ]
            )

    def clean(self):
        data = super().clean()
        if data.get("action") in ("grant", "revoke") and not data.get("subject"):
            self.add_error("subject", _("Choose the subject to grant or remove."))
        return data


class _Choices(BaseChoiceIterator):
    def __init__(self, choices: list[tuple[str, str]]):
        self.choices = choices

    def __iter__(self):
        return iter(self.choices)


# The bulk form's subjects in the field's queryset's order (core.prepared).
_BULK_SUBJECTS = Prepared(
    lambda: TeacherBulkForm.base_fields["subject"].queryset.values("code", "name")
)


class TestAdminIssueForm(PersonForm):
    """A test administrator: a name and an e-mail; username, password and card are issued."""


class SchoolYearRenewForm(forms.Form):
    """The new-school-year page: which of last year's memberships to keep.

    The choices are exactly the memberships the page offered, compared as
    text: a forged or malformed id ("²", a 25-digit number that no database
    integer holds, another school's membership) is a form error, never a
    query and never a 500.
    """

    keep = forms.MultipleChoiceField(
        required=False,
        label=_("Keep"),
        # Most often a page left open while the same teachers were renewed or
        # removed (another tab, another person): say that, not "3 is not one
        # of the available choices".
        error_messages={
            "invalid_choice": _(
                "The list has changed since this page was shown: some of these teachers were "
                "renewed or removed meanwhile (in another tab, or by someone else). Nothing was "
                "saved. Check the list below and send it again."
            )
        },
    )
    remove_unkept = forms.BooleanField(required=False)

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = {str(membership.pk): membership for membership in memberships}
        self.fields["keep"].choices = [(pk, pk) for pk in self.offered]

    def clean_keep(self) -> list[Membership]:
        return [self.offered[pk] for pk in self.cleaned_data["keep"]]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        error_messages={"required": _("Choose a CSV file to check.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
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
    # Which part of a large batch of slips (1, 2, …); none means the first.
    part = forms.IntegerField(min_value=1, max_value=1000, required=False)


# By the name the school knows (`permissions.policy.KNOWN_NAMES`).
_FIRST, _LAST = KNOWN_NAMES["known_first_name"], KNOWN_NAMES["known_last_name"]
SORTS = {
    "name": (_LAST.asc(), _FIRST.asc(), "pk"),
    "-name": (_LAST.desc(), _FIRST.desc(), "-pk"),
    "username": ("user__username",),
    "-username": ("-user__username",),
    "valid_until": ("valid_until", _LAST.asc(), "pk"),
    "-valid_until": ("-valid_until", _LAST.asc(), "pk"),
}


class TeacherFilterForm(forms.Form):
    q = forms.CharField(label=_("Search name, username or e-mail"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))] + list(MembershipState.choices),
        widget=PlainSelect,
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        widget=PlainSelect,
        choices=[
            ("name", _("Name")),
            ("-name", _("Name, reversed")),
            ("username", _("Username")),
            ("valid_until", _("Valid until")),
            ("-valid_until", _("Valid until, latest first")),
        ],
    )
