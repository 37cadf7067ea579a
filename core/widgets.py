"""Form widgets of the busy pages."""

import functools

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language


class PlainSelect(forms.Select):
    """A single `<select>` written out in Python instead of through Django's widget templates.

    PERFORMANCE: Django renders each `<option>` through a template include;
    the catalogue's subject filter (about 50 subjects) cost almost half of
    the whole catalogue page. The markup is Django's (the attributes as
    BoundField passes them: id, required, aria-*; `selected` on the first
    option with the value; `<optgroup>`), without the blank lines between
    options.
    """

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        wanted = tuple(self.format_value(value))
        attributes = tuple(self.build_attrs(self.attrs, attrs).items())
        groups = tuple((group, tuple(choices)) for group, choices in self._groups())
        try:
            return _select_html(get_language(), name, wanted, attributes, groups)
        except TypeError:  # something unhashable among them: write it afresh
            return _select_html.__wrapped__(get_language(), name, wanted, attributes, groups)

    def _groups(self):
        """(group label or None, [(value, label), …]) in order, as Django groups them."""
        loose = []
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                if loose:
                    yield None, loose
                    loose = []
                yield option_value, label
            else:
                loose.append((option_value, label))
        if loose:
            yield None, loose


# PERFORMANCE: the same select written for the same inputs (the language,
# since labels may be lazy translations; the name, the chosen values, the
# attributes and every option) is kept, a few hundred at most. The inputs
# are the whole of what it writes, so nothing can be stale: the choices are
# read afresh on every request (the catalogue's subjects from the database)
# and are part of the key. A chosen value that matches no option changes
# nothing in the markup but still makes an entry of its own; the bound keeps
# that cheap.
@functools.lru_cache(maxsize=512)
def _select_html(language, name, wanted, attributes, groups) -> SafeString:
    wanted = set(wanted)
    found = False

    def options(choices):
        nonlocal found
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            selected = not found and option_value in wanted
            found = found or selected
            yield option_value, " selected" if selected else "", label

    parts = []
    for group, choices in groups:
        # One f-string per option, each value escaped: format_html per
        # option cost a fifth of the catalogue's subject filter.
        rendered = SafeString(
            "".join(
                f'<option value="{conditional_escape(value)}"{selected}>'
                f"{conditional_escape(label)}</option>"
                for value, selected, label in options(choices)
            )
        )
        if group is not None:
            rendered = format_html('<optgroup label="{}">{}</optgroup>', group, rendered)
        parts.append(rendered)
    return format_html(
        '<select name="{}"{}>{}</select>',
        name,
        flatatt(dict(attributes)),
        SafeString("".join(parts)),
    )
