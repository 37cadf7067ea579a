"""Template filters of E-tjänster's teacher pages."""

from django import template

from permissions.models import Membership
from permissions.policy import known_full_name

register = template.Library()


@register.filter
def known_name(membership: Membership) -> str:
    """The name this membership's school may know the teacher by
    (`permissions.policy.known_names`, the rule)."""
    return known_full_name(membership=membership)
