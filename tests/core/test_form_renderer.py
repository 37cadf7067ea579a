"""The form renderer writes Django's plain <input> widgets in Python: the same
markup as Django's own templates, attribute for attribute."""

import datetime

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe

from core.forms import PLAIN_INPUT_TEMPLATES, FormRenderer

WIDGETS = [
    forms.TextInput(attrs={"class": "wide", "placeholder": 'say "hi" <b>'}),
    forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    forms.PasswordInput(render_value=True),
    forms.EmailInput(),
    forms.URLInput(),
    forms.NumberInput(attrs={"min": 0, "step": 1}),
    forms.SearchInput(),
    forms.TelInput(),
    forms.HiddenInput(),
    forms.DateInput(),
    forms.DateTimeInput(),
    forms.TimeInput(),
    forms.ColorInput(),
    forms.CheckboxInput(),
    forms.FileInput(),
]
VALUES = [None, "", "plain", 'a "quoted" <tag> & more', 7, mark_safe("<already safe>"), True]


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_plain_inputs_are_djangos_markup(widget, value):
    attrs = {"id": "id_x", "required": True, "disabled": False, "aria-describedby": "x_help"}
    if isinstance(widget, forms.DateInput) and value is True:
        value = datetime.date(2026, 8, 1)
    ours = widget.render("x<y", value, attrs=attrs, renderer=FormRenderer())
    djangos = widget.render("x<y", value, attrs=attrs, renderer=TemplatesSetting())
    assert ours == djangos


def test_every_plain_template_is_only_djangos_input():
    renderer = TemplatesSetting()
    for name in PLAIN_INPUT_TEMPLATES - {"django/forms/widgets/input.html"}:
        source = renderer.get_template(name).template.source.strip()
        assert source == '{% include "django/forms/widgets/input.html" %}', name


def test_a_form_still_renders_through_the_projects_field_template():
    class Form(forms.Form):
        name = forms.CharField(label="Name", help_text="Help")

    html = str(Form(renderer=FormRenderer()))
    assert 'class="required-mark"' in html
    assert '<input type="text" name="name"' in html
