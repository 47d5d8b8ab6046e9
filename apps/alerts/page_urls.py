from django.urls import path

from apps.alerts import staff_pages, views

urlpatterns = [
    path("dashboard/alerts/", views.alert_list_page, name="alerts-page"),
    path(
        "dashboard/alerts/<uuid:alert_id>/acknowledge", views.alert_acknowledge_action, name="alerts-page-acknowledge"
    ),
    path("dashboard/alerts/<uuid:alert_id>/snooze", views.alert_snooze_action, name="alerts-page-snooze"),
    path("dashboard/alerts/<uuid:alert_id>/resolve", views.alert_resolve_action, name="alerts-page-resolve"),
    path("ops/alerts/", staff_pages.system_alerts_section, name="ops-system-alerts"),
    path(
        "ops/alerts/<uuid:alert_id>/acknowledge",
        staff_pages.system_alert_acknowledge,
        name="ops-system-alert-acknowledge",
    ),
    path("ops/alerts/<uuid:alert_id>/resolve", staff_pages.system_alert_resolve, name="ops-system-alert-resolve"),
]
