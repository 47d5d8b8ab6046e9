from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the deployment's components, their health history, logs and the operator page.

    No models: health history and the log buffer are capped Redis structures (seed 000's
    AS-Infrastructure-Service keeps "no persistent database tables"), so nothing here migrates."""

    name = "apps.ops"
    verbose_name = "Operations"

    def ready(self):
        from apps.ops import components
        from nevermisscall import tracing

        tracing.setup()
        components.register()
        from prometheus_client import REGISTRY

        from apps.ops.collectors import OpsCollector

        if not any(isinstance(c, OpsCollector) for c in list(REGISTRY._collector_to_names)):
            REGISTRY.register(OpsCollector())
