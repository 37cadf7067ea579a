"""The project's form renderer: every `{{ form }}` and `{{ field.as_field_group }}`
goes through templates/forms/, which mark required fields, give help texts and
errors the ids that Django's aria-describedby refers to, and put the error
summary's link targets in place."""

from django.forms.renderers import TemplatesSetting
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

# Django's widget templates that are nothing but an include of
# django/forms/widgets/input.html (Django 5.2; the test compares the output).
PLAIN_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in [
        "input",
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "file",
        "hidden",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    ]
)


class FormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"

    def render(self, template_name, context, request=None):
        # PERFORMANCE: an <input> through Django's templates is three template
        # renders (the widget's, input.html, attrs.html); written here it is
        # the same markup at a small part of the cost, on every form.
        if template_name in PLAIN_INPUT_TEMPLATES:
            return plain_input(context["widget"])
        return super().render(template_name, context, request=request)


def plain_input(widget: dict) -> SafeString:
    """django/forms/widgets/input.html and attrs.html, written out: the same
    attributes in the same order, escaped the same way."""
    parts = [
        '<input type="',
        conditional_escape(widget["type"]),
        '" name="',
        conditional_escape(widget["name"]),
        '"',
    ]
    value = widget["value"]
    if value is not None:
        parts += [' value="', conditional_escape(_as_text(value)), '"']
    for name, attribute in widget["attrs"].items():
        if attribute is False:
            continue
        parts += [" ", conditional_escape(name)]
        if attribute is not True:
            parts += ['="', conditional_escape(_as_text(attribute)), '"']
    parts.append(">")
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped


def _as_text(value):
    # The template's `|stringformat:'s'`, which keeps a safe string safe.
    return value if isinstance(value, SafeString) else "%s" % (value,)  # noqa: UP031
