from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from schools.models import Huvudman, SchoolUnit
from schools.validators import normalize_organisationsnummer


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
