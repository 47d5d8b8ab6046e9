from django.apps import AppConfig


class TelephonyRegistryConfig(AppConfig):
    """The public-schema map from each phone number to its business (a shared app)."""

    name = "apps.telephony.registry"
    label = "telephony_registry"
    verbose_name = "Phone number registry"
    default_auto_field = "django.db.models.BigAutoField"
