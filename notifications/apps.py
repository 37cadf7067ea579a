"""The product speaks first: notices mailed to the people who should act,
and each person's choice of the optional ones."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Imported here: models and the layers below are ready only now.
        from core.outbox import composer_register
        from notifications.composers import (
            CARD_LOCKED,
            LINK_ANSWERED,
            card_locked_compose,
            link_answered_compose,
        )

        # The layers below queue these kinds and know nobody they tell: the
        # worker composes each mail from the data as it is then.
        composer_register(CARD_LOCKED, card_locked_compose, label=_("Card locked"))
        composer_register(LINK_ANSWERED, link_answered_compose, label=_("Link answered"))
