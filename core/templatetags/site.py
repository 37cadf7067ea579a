"""Template tags every page shares: the error summary, required-field marks
and the constant parts of base.html."""

import dataclasses

from django import template
from django.forms import BaseForm
from django.template.base import FilterExpression, TextNode, TokenType, Variable
from django.template.defaulttags import URLNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix
from django.utils import translation

register = template.Library()


def _is_literal(expression) -> bool:
    if isinstance(expression, FilterExpression):
        return not expression.filters and _is_literal(expression.var)
    if isinstance(expression, Variable):
        return expression.literal is not None and expression.lookups is None
    return expression is None or isinstance(expression, (str, int, float))


def _constant(node) -> bool:
    """Whether the node writes the same markup whatever the context: text, a
    `translate`, `url` or `static` of literal strings, or a `blocktranslate`
    of text alone."""
    if isinstance(node, TextNode):
        return True
    if isinstance(node, TranslateNode):
        return (
            node.asvar is None
            and _is_literal(node.filter_expression)
            and _is_literal(node.message_context)
        )
    if isinstance(node, URLNode):
        return (
            node.asvar is None
            and _is_literal(node.view_name)
            and all(_is_literal(arg) for arg in node.args)
            and all(_is_literal(arg) for arg in node.kwargs.values())
        )
    if isinstance(node, StaticNode):
        return node.varname is None and _is_literal(node.path)
    if isinstance(node, BlockTranslateNode):
        # Text only: no variables, no count, kept nowhere else.
        return (
            not node.extra_context
            and node.countervar is None
            and node.asvar is None
            and _is_literal(node.message_context)
            and all(token.token_type == TokenType.TEXT for token in node.singular)
        )
    return False


class ConstantNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist
        # Per language and script prefix (what translations and URLs depend
        # on): the markup, written once per compiled template.
        self.rendered: dict[tuple[str | None, str], str] = {}

    def render(self, context) -> str:
        key = (translation.get_language(), get_script_prefix())
        markup = self.rendered.get(key)
        if markup is None:
            markup = self.rendered[key] = self.nodelist.render(context)
        return markup


@register.tag
def constant(parser, token):
    """`{% constant %}…{% endconstant %}`: markup written once per language.

    PERFORMANCE: base.html's navigation and footer are a dozen `{% url %}`,
    `{% translate %}` and `{% static %}` tags that write the same markup on
    every page; rendered once per language, the page pays for one lookup.
    Only text and those tags with literal arguments are allowed inside (a
    variable, a filter or any other tag is a TemplateSyntaxError), so nothing
    of the request, the user or the data can ever be kept.
    """
    nodelist = parser.parse(("endconstant",))
    parser.delete_first_token()
    for node in nodelist:
        if not _constant(node):
            raise template.TemplateSyntaxError(
                "{% constant %} holds only text and translate/url/static of literals,"
                f" not {node!r}"
            )
    return ConstantNode(nodelist)


@dataclasses.dataclass(frozen=True)
class PageError:
    message: str
    # "#id" of the field to go to, or "" for an error of the whole form or page.
    href: str = ""


def _form_errors(form: BaseForm) -> list[PageError]:
    errors = [PageError(str(message)) for message in form.non_field_errors()]
    for field in form:
        if field.is_hidden:
            errors += [PageError(str(message)) for message in field.errors]
            continue
        # A group of checkboxes or radios has no single input: go to its group.
        target = field.id_for_label or field.auto_id
        for message in field.errors:
            errors.append(PageError(f"{field.label}: {message}", f"#{target}" if target else ""))
    return errors


@register.simple_tag(takes_context=True)
def page_errors(context) -> list[PageError]:
    """Every error the page shows: of each bound form in the context, and the
    page's own `error` message (the login steps). base.html puts "Fel:" in the
    title and an error summary at the top of the page when there are any, so a
    new page gets both just by passing its form to the template."""
    errors: list[PageError] = []
    seen: set[int] = set()
    for value in context.flatten().values():
        # PERFORMANCE: type(), not isinstance(): isinstance() asks a lazy
        # value (the CSRF token, the notices) for its class and so evaluates
        # it, and a form is never passed lazily.
        if issubclass(type(value), BaseForm) and value.is_bound and id(value) not in seen:
            seen.add(id(value))
            errors += _form_errors(value)
    page_error = context.get("error")
    if isinstance(page_error, str) and page_error:
        errors.insert(0, PageError(page_error))
    return errors


@register.filter
def has_required(form: BaseForm) -> bool:
    """Whether the form has a visible required field (the rule is then stated once)."""
    return any(field.field.required and not field.is_hidden for field in form)
