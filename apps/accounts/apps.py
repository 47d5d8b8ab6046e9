from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "Accounts"

    def ready(self):
        from nevermisscall import openapi  # noqa: F401  (registers the auth schemes with drf-spectacular)
