"""Template filters of the material pages: a level in running text."""

from django import template
from django.utils.text import get_text_list
from django.utils.translation import gettext

from permissions.models import MaterialLevel

register = template.Library()


@register.filter
def level_phrase(level: str) -> str:
    """A material level as running text: "gymnasienivå", not "nivån gymnasial"."""
    return str(MaterialLevel.phrases().get(level, level))


@register.filter
def join_level_phrases(levels: list[str]) -> str:
    return get_text_list([level_phrase(level) for level in levels], gettext("and"))
