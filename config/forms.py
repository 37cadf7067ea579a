"""The project's form renderer: every `{{ form }}` and `{{ field.as_field_group }}`
goes through templates/forms/, which mark required fields, give help texts and
errors the ids that Django's aria-describedby refers to, and put the error
summary's link targets in place."""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
