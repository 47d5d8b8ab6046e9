"""The Celery app. tenant-schemas-celery stamps the current schema on every task it sends."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")

app = CeleryApp("nevermisscall")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
