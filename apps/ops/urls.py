from django.urls import path

from apps.ops import logs, pages, views

urlpatterns = [
    path("health/overview", views.health_overview, name="health-overview"),
    path("health/infrastructure", views.health_infrastructure, name="health-infrastructure"),
    path("health/check", views.health_check_all, name="health-check"),
    path("health/services", views.health_services, name="health-services"),
    path("health/services/<str:name>", views.health_service, name="health-service"),
    path("health/services/<str:name>/history", views.health_service_history, name="health-service-history"),
    path("health/services/<str:name>/check", views.health_check_one, name="health-service-check"),
    path("status", views.status, name="status"),
    path("metrics/system", views.metrics_system, name="metrics-system"),
    path("metrics/services", views.metrics_services, name="metrics-services"),
    path("metrics/services/<str:name>", views.metrics_service, name="metrics-service"),
    path("metrics/infrastructure", views.metrics_infrastructure, name="metrics-infrastructure"),
    path("metrics/summary", views.metrics_summary, name="metrics-summary"),
    path("registry", views.registry, name="registry"),
    path("registry/active", views.registry_active, name="registry-active"),
    path("registry/critical", views.registry_critical, name="registry-critical"),
    path("registry/statistics", views.registry_statistics, name="registry-statistics"),
    path("registry/health", views.registry_health, name="registry-health"),
    path("registry/versions", views.registry_versions, name="registry-versions"),
    path("registry/categories", views.registry_categories, name="registry-categories"),
    path("registry/dependencies", views.registry_dependencies, name="registry-dependencies"),
    path("registry/services/<str:name>", views.registry_service, name="registry-service"),
    path("registry/services/<str:name>/endpoints", views.registry_service_endpoints, name="registry-service-endpoints"),
    path("registry/services/<str:name>/uptime", views.registry_service_uptime, name="registry-service-uptime"),
    path("registry/tags/<str:tag>", views.registry_tag, name="registry-tag"),
    path("api/logs/latest", logs.logs_latest, name="logs-latest"),
    path("ops/", pages.operator_page, name="ops-page"),
    path("ops/panel", pages.operator_panel, name="ops-panel"),
]
