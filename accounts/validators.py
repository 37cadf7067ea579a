"""Validation of what people type about people: names."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Cc: control characters (NUL, escape, DEL …); Cf: format characters, among
# them the bidirectional overrides (U+202E) that can make a name display as
# another. Neither belongs in a person's name, on a slip or in the audit log.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf"})

CONTROL_CHARACTER_MESSAGE = _("The name contains invisible or control characters.")


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in text)


def validate_person_name(value: str) -> None:
    if has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTER_MESSAGE, code="control_characters")
