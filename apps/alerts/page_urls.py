from django.urls import path

from apps.alerts import views

urlpatterns = [
    path("dashboard/alerts/", views.alert_list_page, name="alerts-page"),
    path(
        "dashboard/alerts/<uuid:alert_id>/acknowledge", views.alert_acknowledge_action, name="alerts-page-acknowledge"
    ),
    path("dashboard/alerts/<uuid:alert_id>/snooze", views.alert_snooze_action, name="alerts-page-snooze"),
    path("dashboard/alerts/<uuid:alert_id>/resolve", views.alert_resolve_action, name="alerts-page-resolve"),
]
