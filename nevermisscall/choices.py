"""Vocabularies shared by several apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Trade(models.TextChoices):
    PLUMBING = "plumbing", _("Plumbing")
    ELECTRICAL = "electrical", _("Electrical")
    HVAC = "hvac", _("HVAC")
    LOCKSMITH = "locksmith", _("Locksmith")
    GARAGE_DOOR = "garage_door", _("Garage door")
