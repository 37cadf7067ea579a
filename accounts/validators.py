"""Validation of what people type about people: names."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User

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


def validate_person_name_field(field: str, value: str) -> None:
    """For services: a name with control characters is a field error."""
    if has_control_characters(value):
        raise ValidationError({field: CONTROL_CHARACTER_MESSAGE}, code="control_characters")


# A chosen username (admin-site accounts only; everyone else's is generated):
# the characters of generated usernames (no 0/O, 1/l/I) and . and -.
CHOSEN_USERNAME = re.compile(r"^[a-hjkmnp-z][a-hjkmnp-z2-9.-]{2,29}$")
# SECURITY: never a personal identity number (SPEC), nor anything like one.
DIGIT_RUN = re.compile(r"[0-9]{6}")

CHOSEN_USERNAME_MESSAGE = _(
    "A username has 3–30 characters: lower-case letters, the digits 2–9, '.' and '-', "
    "and starts with a letter. It may not contain 0, 1, i, l or o (easily misread) nor "
    "six digits in a row."
)


def validate_chosen_username(value: str) -> None:
    if not CHOSEN_USERNAME.match(value) or DIGIT_RUN.search(value):
        raise ValidationError(CHOSEN_USERNAME_MESSAGE, code="invalid_username")
    if User.objects.filter(username__iexact=value).exists():
        raise ValidationError(_("That username is taken."), code="username_taken")


def validate_chosen_username_field(value: str) -> None:
    try:
        validate_chosen_username(value)
    except ValidationError as error:
        raise ValidationError({"username": error.messages}) from error
