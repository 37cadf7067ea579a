"""The school pages' navigation: `{% school_nav %}`, which
templates/etjanster/_school_nav.html holds for every school page.

PERFORMANCE: the links (templates/etjanster/_school_nav_links.html, the
reference) are nine `{% url %}` of the school's code and as many
translations, some 0.4 ms of every school page. They differ between schools
only by the school's code and name, so the template is rendered once per
language, script prefix, URLconf and set of links shown, with stand-ins for
the code and name, and each page puts its school's code and name in, escaped
as the template escapes them.

SECURITY: which links show (the `may_…` answers of the policy) is part of
the key and read from each request's context; nothing of a user or a
request is kept, only the markup a set of answers gives.
"""

import re
from types import SimpleNamespace

from django import template
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()

LINKS = "etjanster/_school_nav_links.html"
# The links shown by what the policy answered (web.context_processors).
FLAGS = (
    "may_approve_ss12000",
    "may_manage_test_admins",
    "may_remove_teachers",
    "may_view_handover",
)
# Letters and digits only: URL quoting and HTML escaping leave them as they are.
_CODE, _NAME = "SchoolNavCode7340021", "SchoolNavName7340021"
_STAND_INS = re.compile(f"{_CODE}|{_NAME}")


@register.simple_tag(takes_context=True)
def school_nav(context) -> SafeString:
    school_unit = context["school_unit"]
    shown = {flag: bool(context.get(flag)) for flag in FLAGS}
    links = get_template(LINKS)
    code = str(school_unit.code)
    if not (code.isascii() and code.isalnum()):
        # A code the URL would quote: as the template writes it.
        return links.render({"school_unit": school_unit, **shown})
    # Kept on the compiled template, so a template reloaded in development
    # starts afresh.
    patterns = links.template.__dict__.setdefault("school_nav_patterns", {})
    key = (get_language(), get_script_prefix(), get_urlconf(), *shown.values())
    pattern = patterns.get(key)
    if pattern is None:
        stand_in = SimpleNamespace(code=_CODE, name=_NAME)
        pattern = patterns[key] = str(links.render({"school_unit": stand_in, **shown}))
    values = {_CODE: code, _NAME: conditional_escape(school_unit.name)}
    return SafeString(_STAND_INS.sub(lambda found: values[found.group()], pattern))
