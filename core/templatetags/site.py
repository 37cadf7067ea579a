"""Template tags every page shares: the error summary and required-field marks."""

import dataclasses

from django import template
from django.forms import BaseForm

register = template.Library()


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
        if isinstance(value, BaseForm) and value.is_bound and id(value) not in seen:
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
