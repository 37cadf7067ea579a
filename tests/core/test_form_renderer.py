"""The form renderer writes Django's plain <input> widgets in Python: the same
markup as Django's own templates, attribute for attribute."""

import datetime

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.template import engines
from django.utils import translation
from django.utils.safestring import mark_safe

from core.forms import PLAIN_INPUT_TEMPLATES, FormRenderer, option_html

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


class EveryKindOfField(forms.Form):
    name = forms.CharField(label='Name <b> & "co"', help_text="Help <i>")
    optional = forms.CharField(required=False)
    agree = forms.BooleanField(label="I agree", help_text="Read it first")
    maybe = forms.BooleanField(required=False)
    colour = forms.ChoiceField(
        choices=[("r", "Red"), ("g", "Green")], widget=forms.RadioSelect, help_text="Pick one"
    )
    many = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple, required=False
    )
    level = forms.ChoiceField(choices=[("", "All"), ("x", "X")], required=False)
    note = forms.CharField(
        widget=forms.Textarea, required=False, help_text=mark_safe("<em>safe</em>")
    )
    described = forms.CharField(widget=forms.TextInput(attrs={"aria-describedby": "elsewhere"}))
    secret = forms.CharField(widget=forms.HiddenInput, required=False)


@pytest.mark.parametrize("auto_id", ["id_%s", "", "f-%s"])
@pytest.mark.parametrize("data", [None, {}, {"name": "x", "colour": "nope", "agree": "on"}])
def test_field_groups_are_the_field_templates_markup(auto_id, data):
    ours = EveryKindOfField(data, auto_id=auto_id, renderer=FormRenderer())
    theirs = EveryKindOfField(data, auto_id=auto_id, renderer=TemplatesSetting())
    theirs.template_name_div = ours.template_name_div
    for field, reference in zip(ours, theirs, strict=True):
        expected = reference.render(FormRenderer.field_template_name)
        assert str(field.as_field_group()) == expected, field.name


class WithHidden(EveryKindOfField):
    token = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        raise forms.ValidationError("The whole form <is> wrong.")


class NothingRequired(forms.Form):
    q = forms.CharField(required=False)


class ThroughTemplates(TemplatesSetting):
    """The project's templates, every one rendered by the template engine."""

    form_template_name = FormRenderer.form_template_name
    field_template_name = FormRenderer.field_template_name


@pytest.mark.parametrize("form_class", [EveryKindOfField, WithHidden, NothingRequired])
@pytest.mark.parametrize("data", [None, {}, {"name": "x", "colour": "nope", "agree": "on"}])
@pytest.mark.parametrize("language", ["sv", "en"])
def test_whole_forms_are_the_form_templates_markup(form_class, data, language):
    with translation.override(language):
        ours = form_class(data, renderer=FormRenderer())
        expected = str(form_class(data, renderer=ThroughTemplates()))
        assert str(ours) == expected
        assert ours.render() == expected


@pytest.mark.parametrize("widget", [forms.CheckboxSelectMultiple, forms.RadioSelect])
@pytest.mark.parametrize("value", [[], ["b"], ["a", "b"]])
def test_options_are_the_option_templates_markup(widget, value):
    choices = [("a", 'A & "b"'), ("b", "<B>"), ("c", "C")]
    for attrs in ({"id": "id_x", "class": "c"}, {}):
        context = widget(choices=choices).get_context("x", value, attrs)
        for _group, options, _index in context["widget"]["optgroups"]:
            for option in options:
                template = engines["django"].get_template(option["template_name"])
                assert option_html(option) == template.render({"widget": option})
