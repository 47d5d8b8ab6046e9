"""Which business owns which phone number, in the public schema.

A Twilio webhook names the number that was called (``To``), not the business: this table turns it
into the tenant with one lookup on a unique index, however many tenants there are.
"""

from django.db import models
from django.db.models.functions import Now


class NumberRoute(models.Model):
    phone_number = models.CharField(max_length=20, unique=True, help_text="E.164")
    business = models.ForeignKey("tenants.Business", on_delete=models.CASCADE, related_name="number_routes")
    # The tenant's PhoneNumber row (in the business's schema, so not a foreign key).
    phone_number_id = models.UUIDField()
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["phone_number"]

    def __str__(self):
        return f"{self.phone_number} → {self.business_id}"
