"""Give a business a Twilio number it already owns (set up by hand in the Twilio console)."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from apps.telephony.phone_numbers import phone_number_assign
from apps.tenants.config.services import config_update
from apps.tenants.models import Business
from nevermisscall.errors import Conflict
from nevermisscall.phone import InvalidPhoneNumber, to_e164


class Command(BaseCommand):
    help = "Register an existing Twilio number for a business: assign_number <business-slug> <number> [--sid PN…]"

    def add_arguments(self, parser):
        parser.add_argument("business")
        parser.add_argument("number")
        parser.add_argument("--sid", default="")
        parser.add_argument("--forwarding", default="", help="Also set the business's forwarding number")

    def handle(self, *args, **options):
        business = Business.objects.exclude(schema_name="public").filter(slug=options["business"]).first()
        if business is None:
            raise CommandError(f"No business with slug {options['business']!r}.")
        try:
            number = to_e164(options["number"])
            forwarding = to_e164(options["forwarding"]) if options["forwarding"] else ""
        except InvalidPhoneNumber as exc:
            raise CommandError(str(exc))
        with tenant_context(business):
            try:
                phone_number_assign(phone_number=number, twilio_sid=options["sid"])
            except Conflict as exc:
                raise CommandError(exc.message)
            if forwarding:
                config_update(business=business, data={"forwarding_number": forwarding})
        self.stdout.write(f"{number} now rings {business.name}.")
