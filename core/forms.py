"""The project's form renderer: every `{{ form }}` and `{{ field.as_field_group }}`
goes through templates/forms/, which mark required fields, give help texts and
errors the ids that Django's aria-describedby refers to, and put the error
summary's link targets in place."""

from django.forms import BoundField
from django.forms.renderers import TemplatesSetting
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

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
        # The same for templates/forms/field.html around each field (its
        # label, required mark, help text and errors): a third of the
        # catalogue's filter form, written out in `field_group`.
        if template_name == self.field_template_name and set(context) == {"field"}:
            return field_group(context["field"])
        # And templates/forms/form.html around the fields (`{{ form }}`).
        if template_name == self.form_template_name and set(context) == FORM_CONTEXT:
            return whole_form(context)
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


REQUIRED_MARK = '<span class="required-mark" aria-hidden="true"> *</span>'


def field_group(field: BoundField) -> SafeString:
    """templates/forms/field.html, written out: the same markup, whitespace
    included (tests/core/test_form_renderer.py renders both and compares)."""
    label = conditional_escape(field.label)
    if field.field.required:
        label += REQUIRED_MARK
    help_text = ""
    if field.help_text:
        help_text = (
            f'<div class="help" id="{conditional_escape(field.auto_id)}_helptext">'
            f"{conditional_escape(field.help_text)}</div>"
        )
    # An empty error list renders as nothing; only a field with errors pays
    # for Django's error list template.
    errors = str(field.errors) if field.errors else ""
    if field.use_fieldset:
        described = field.aria_describedby
        described = f' aria-describedby="{conditional_escape(described)}"' if described else ""
        html = (
            f'\n<fieldset class="field-group"{described}>\n  <legend>{label}</legend>\n'
            f"  {help_text}\n  {errors}\n  {field}\n</fieldset>\n"
        )
    elif field.widget_type == "checkbox":
        html = (
            f'\n<div class="checkbox">\n  {field}\n  <label for="'
            f'{conditional_escape(field.id_for_label)}">{label}</label>\n</div>\n'
            f"{help_text}\n{errors}\n"
        )
    else:
        html = (
            f'\n<label for="{conditional_escape(field.id_for_label)}">{label}</label>\n'
            f"{help_text}\n{errors}\n{field}\n"
        )
    # Stripped, as Django's renderers strip every template they render.
    return mark_safe(html.strip())  # noqa: S308 - every part is escaped or Django's own HTML


def option_html(option: dict) -> SafeString:
    """One checkbox or radio option as `{% include option.template_name %}`
    writes it (django/forms/widgets/input_option.html around input.html, each
    file's closing newline included), for widgets that loop over their
    options in a template of their own."""
    label = ""
    if option["wrap_label"]:
        label_for = option["attrs"].get("id")
        label = f' for="{conditional_escape(label_for)}"' if label_for else ""
        label = f"<label{label}>"
    markup = label + plain_input(option) + "\n"
    if option["wrap_label"]:
        markup += f" {conditional_escape(option['label'])}</label>"
    return mark_safe(markup + "\n\n")  # noqa: S308 - escaped parts and plain_input's HTML


FORM_CONTEXT = {"form", "fields", "hidden_fields", "errors"}


def whole_form(context: dict) -> SafeString:
    """templates/forms/form.html, written out, whitespace included (the test
    compares): the required-fields rule, the form's own errors, each visible
    field in its div, the hidden fields."""
    form = context["form"]
    parts = []
    if any(field.field.required and not field.is_hidden for field in form):
        # templates/forms/required_rule.html (the same msgid).
        rule = gettext('Fields marked with <span class="required-mark">*</span> are required.')
        parts.append(f'<p class="required-rule">{rule}</p>\n')
    parts.append("\n")
    if context["errors"]:
        parts.append(f'<div class="form-errors">{context["errors"]}</div>')
    parts.append("\n")
    for field, errors in context["fields"]:
        invalid = " field-invalid" if errors else ""
        parts.append(f'\n<div class="field{invalid}">{field.as_field_group()}</div>\n')
    parts.append("\n")
    parts.extend(str(field) for field in context["hidden_fields"])
    parts.append("\n")
    # Stripped, as Django's renderers strip every template they render.
    return mark_safe("".join(parts).strip())  # noqa: S308 - escaped parts and Django's own HTML


def _as_text(value):
    # The template's `|stringformat:'s'`, which keeps a safe string safe.
    return value if isinstance(value, SafeString) else "%s" % (value,)  # noqa: UP031
