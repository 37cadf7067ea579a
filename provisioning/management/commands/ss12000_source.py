"""Point a huvudman at its SS 12000 API, for scripts:

    manage.py ss12000_source --huvudman 212000-1234 --url https://… --token TOKEN
    manage.py ss12000_source --huvudman … --url … --client-id ID --client-secret S --token-url URL

The source is read first: a bad address or token prints why and saves nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.context import AuditContext
from provisioning.client import SourceError
from provisioning.sources import source_save
from schools.models import Huvudman


class Command(BaseCommand):
    help = "Save a huvudman's SS 12000 source (checked first; nothing is saved on an error)."

    def add_arguments(self, parser):
        parser.add_argument("--huvudman", required=True, help="The organisationsnummer.")
        parser.add_argument("--url", required=True, help="The SS 12000 API's base address.")
        parser.add_argument("--token", default="", help="A bearer token.")
        parser.add_argument("--client-id", default="")
        parser.add_argument("--client-secret", default="")
        parser.add_argument("--token-url", default="", help="The OAuth 2 token address.")

    def handle(self, *args, **options):
        huvudman = Huvudman.objects.filter(organisationsnummer=options["huvudman"]).first()
        if huvudman is None:
            raise CommandError(f"Ingen huvudman har organisationsnumret {options['huvudman']}.")
        try:
            source, seen = source_save(
                huvudman=huvudman,
                context=AuditContext.system(),
                base_url=options["url"],
                token=options["token"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
                token_url=options["token_url"],
            )
        except SourceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Sparad: {source}. Skolenheter som matchar: {seen.matching_units} av "
            f"{seen.our_units}; lärartjänstgöringar: {seen.teacher_duties}."
        )
