from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Bedömningsportalen"

    def ready(self) -> None:
        # Imported here: models and the layers below are ready only now.
        from audit.display import label_values
        from portal.models import TicketStatus

        # A ticket's status in the log reads as the ticket list shows it.
        label_values("status", TicketStatus)
