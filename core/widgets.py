"""Form widgets of the busy pages."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString


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
        wanted = set(self.format_value(value))
        found = False

        def options(choices):
            nonlocal found
            for option_value, label in choices:
                option_value = "" if option_value is None else str(option_value)
                selected = not found and option_value in wanted
                found = found or selected
                yield option_value, " selected" if selected else "", label

        parts = []
        for group, choices in self._groups():
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
            flatatt(self.build_attrs(self.attrs, attrs)),
            SafeString("".join(parts)),
        )

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
