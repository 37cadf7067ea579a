"""Infrastructure: its own rows (outbox, spent tokens, rate limits, notices)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Operations")
