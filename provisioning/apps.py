from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = _("School systems (SS 12000)")

    def ready(self) -> None:
        # Start-up wiring, not a cycle: the handover (below) lists what waits here.
        from core.outbox import composer_register
        from permissions.handover import provide_proposals
        from provisioning.mails import WELCOME_MAIL, welcome_mail_compose
        from provisioning.selectors import open_proposals

        provide_proposals(open_proposals)
        composer_register(
            WELCOME_MAIL, welcome_mail_compose, label=_("Login of a teacher from SS 12000")
        )
