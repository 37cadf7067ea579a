from django import forms

from schools.models import Huvudman
from schools.validators import normalize_organisationsnummer


class HuvudmanForm(forms.ModelForm):
    class Meta:
        model = Huvudman
        fields = ("name", "organisationsnummer", "contact_name", "contact_email", "contact_phone")

    def clean_organisationsnummer(self) -> str:
        # Accept the ways people write it (with or without dash or century).
        return normalize_organisationsnummer(self.cleaned_data["organisationsnummer"])
