import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SKOLENHETSKOD_RE = re.compile(r"^[0-9]{8}$")
ORGANISATIONSNUMMER_RE = re.compile(r"^[0-9]{6}-[0-9]{4}$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def normalize_organisationsnummer(value: str) -> str:
    """`5560000001`, `556000-0001` and `16556000-0001` all become `556000-0001`."""
    digits = re.sub(r"[\s-]", "", value or "")
    if len(digits) == 12 and digits.startswith("16"):
        digits = digits[2:]
    if len(digits) == 10 and digits.isdigit():
        return f"{digits[:6]}-{digits[6:]}"
    return (value or "").strip()


def validate_organisationsnummer(value: str) -> None:
    if not ORGANISATIONSNUMMER_RE.match(value or ""):
        raise ValidationError(
            _("Enter the organisation number as ten digits, e.g. 212000-0142."),
            code="format",
        )
    if not luhn_valid(value.replace("-", "")):
        raise ValidationError(
            _("The organisation number's check digit is wrong. Check the number."),
            code="check_digit",
        )


def validate_skolenhetskod(value: str) -> None:
    if not SKOLENHETSKOD_RE.match(value or ""):
        raise ValidationError(
            _("A skolenhetskod is exactly eight digits, e.g. 12345678."),
            code="format",
        )
