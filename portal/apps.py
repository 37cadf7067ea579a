from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Bedömningsportalen"

    def ready(self) -> None:
        # Imported here: models and the layers below are ready only now.
        from audit.display import label_values
        from core.outbox import composer_register
        from portal.models import TicketStatus
        from portal.services import huvudman_contact_compose

        # A ticket's status in the log reads as the ticket list shows it.
        label_values("status", TicketStatus)
        # The huvudman look-up's mail is composed by the worker (core.outbox).
        composer_register(
            "huvudman_contact",
            huvudman_contact_compose,
            label=_("Huvudman contact look-up"),
        )
