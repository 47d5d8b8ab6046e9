from django.apps import AppConfig


class BusinessConfigConfig(AppConfig):
    """Per-business settings, stored in the business's own schema."""

    name = "apps.tenants.config"
    label = "business_config"
    verbose_name = "Business settings"
