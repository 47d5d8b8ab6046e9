from django.urls import path

from apps.alerts import api

A = "api/alerts"
system = {"system": True}

urlpatterns = [
    # AS-Alerts-Service (seed 000): the business's alerts and rules.
    path(A, api.AlertListApi.as_view(), name="alerts-list"),
    path(f"{A}/active", api.AlertActiveApi.as_view(), name="alerts-active"),
    path(f"{A}/statistics", api.AlertStatisticsApi.as_view(), name="alerts-statistics"),
    path(f"{A}/test", api.AlertTestApi.as_view(), name="alerts-test"),
    path(f"{A}/bulk/acknowledge", api.AlertBulkAcknowledgeApi.as_view(), name="alerts-bulk-acknowledge"),
    path(f"{A}/rules", api.RuleListCreateApi.as_view(), name="alert-rules"),
    path(f"{A}/rules/by-metric", api.RuleByMetricApi.as_view(), name="alert-rules-by-metric"),
    path(f"{A}/rules/<uuid:rule_id>", api.RuleDetailApi.as_view(), name="alert-rule-detail"),
    path(f"{A}/rules/<uuid:rule_id>/status", api.RuleStatusApi.as_view(), name="alert-rule-status"),
    path(f"{A}/<uuid:alert_id>", api.AlertDetailApi.as_view(), name="alert-detail"),
    path(f"{A}/<uuid:alert_id>/history", api.AlertHistoryApi.as_view(), name="alert-history"),
    path(f"{A}/<uuid:alert_id>/acknowledge", api.AlertAcknowledgeApi.as_view(), name="alert-acknowledge"),
    path(f"{A}/<uuid:alert_id>/snooze", api.AlertSnoozeApi.as_view(), name="alert-snooze"),
    path(f"{A}/<uuid:alert_id>/resolve", api.AlertResolveApi.as_view(), name="alert-resolve"),
    # Internal (x-service-key, X-Business-ID).
    *[
        path(f"internal/alerts/{step}", api.InternalAlertsApi.as_view(step=step), name=f"internal-alerts-{step}")
        for step in ("evaluate", "notify", "check-escalations", "auto-resolve", "unsnooze-expired")
    ],
    # AS-Infrastructure-Service (seed 000): the platform's system alerts, for platform staff.
    path("alerts", api.SystemAlertCreateListApi.as_view(), name="system-alerts"),
    path("alerts/statistics", api.AlertStatisticsApi.as_view(**system), name="system-alerts-statistics"),
    path("alerts/test", api.AlertTestApi.as_view(**system), name="system-alerts-test"),
    path("alerts/bulk/acknowledge", api.AlertBulkAcknowledgeApi.as_view(**system), name="system-alerts-bulk-ack"),
    path("alerts/service/<str:service_name>", api.AlertListApi.as_view(**system), name="system-alerts-service"),
    path("alerts/type/<str:alert_type>", api.AlertListApi.as_view(**system), name="system-alerts-type"),
    path("alerts/<uuid:alert_id>", api.AlertDetailApi.as_view(**system), name="system-alert-detail"),
    path("alerts/<uuid:alert_id>/acknowledge", api.AlertAcknowledgeApi.as_view(**system), name="system-alert-ack"),
    path("alerts/<uuid:alert_id>/resolve", api.AlertResolveApi.as_view(**system), name="system-alert-resolve"),
]
