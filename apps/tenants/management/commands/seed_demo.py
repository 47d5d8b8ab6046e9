"""Create the demo business (with 30 days of history) and the platform superuser; safe to run any
number of times."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.tenants.config.services import config_update
from apps.tenants.demo import (
    DEMO_BUSINESS,
    DEMO_FORWARDING,
    DEMO_NUMBER,
    DEMO_OWNER,
    PLATFORM_ADMIN,
    demo_activity_seed,
)
from apps.tenants.models import Business
from apps.tenants.services import ONBOARDING_STEPS, business_register

DEMO_SETTINGS = {
    "forwarding_number": DEMO_FORWARDING,
    "service_area": {
        "address": "350 5th Ave, New York, NY 10118",
        "latitude": 40.7484,
        "longitude": -73.9857,
        "radius_miles": 30,
    },
    "job_estimates": [
        {
            "job_type": "Drain cleaning",
            "trade": "plumbing",
            "min_price": 150,
            "max_price": 300,
            "duration_minutes": 90,
            "description": "",
        },
        {
            "job_type": "Water heater repair",
            "trade": "plumbing",
            "min_price": 250,
            "max_price": 900,
            "duration_minutes": 180,
            "description": "",
        },
        {
            "job_type": "Leak repair",
            "trade": "plumbing",
            "min_price": 120,
            "max_price": 450,
            "duration_minutes": 120,
            "description": "",
        },
    ],
}


class Command(BaseCommand):
    help = "Create the demo business (Acme Plumbing, 30 days of history) and a platform superuser, if missing."

    @transaction.atomic
    def handle(self, *args, **options):
        business = Business.objects.filter(is_demo=True, name=DEMO_BUSINESS).first()
        if business is None:
            business, _ = business_register(
                business_name=DEMO_BUSINESS,
                owner_email=DEMO_OWNER[0],
                owner_password=DEMO_OWNER[1],
                owner_name="Alex Acme",
                trade="plumbing",
                timezone_name="America/New_York",
                phone="+12125550100",
                is_demo=True,
            )
            with schema_context(business.schema_name):
                config_update(business=business, data=DEMO_SETTINGS)
            # The demo is a business already set up: its owner lands on the dashboard, not the wizard.
            business.onboarding_completed_steps = list(ONBOARDING_STEPS)
            business.onboarding_step = "done"
            business.onboarding_completed_at = timezone.now()
            business.save(update_fields=["onboarding_completed_steps", "onboarding_step", "onboarding_completed_at"])
            self.stdout.write(f"Created demo business {business.name} ({business.schema_name}).")
        calls, missed, bookings = demo_activity_seed(business=business, trade="plumbing", number=DEMO_NUMBER)
        self.stdout.write(f"Demo history: {calls} calls ({missed} missed), {bookings} appointments over 30 days.")
        if not User.objects.filter(email=PLATFORM_ADMIN[0]).exists():
            User.objects.create_superuser(email=PLATFORM_ADMIN[0], password=PLATFORM_ADMIN[1], first_name="Platform")
            self.stdout.write(f"Created platform superuser {PLATFORM_ADMIN[0]}.")
        self.stdout.write(f"  Demo owner:      {DEMO_OWNER[0]} / {DEMO_OWNER[1]}")
        self.stdout.write(f"  Platform admin:  {PLATFORM_ADMIN[0]} / {PLATFORM_ADMIN[1]}")
