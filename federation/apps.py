from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = _("Federated login")

    def ready(self) -> None:
        # Imported here: models are ready only now.
        from core.outbox import composer_register
        from federation.codes import LINK_CODE_MAIL, link_code_compose

        # The code that links a school account: the worker decides whether
        # the typed text names an account (the request does the same work either way).
        composer_register(LINK_CODE_MAIL, link_code_compose, label=_("School account link code"))
