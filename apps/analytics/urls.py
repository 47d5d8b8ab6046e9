from django.urls import path

from apps.analytics import api

urlpatterns = [
    path("api/connections/establish", api.ConnectionEstablishApi.as_view(), name="connections-establish"),
    path("api/connections/status", api.ConnectionStatusApi.as_view(), name="connections-status"),
    path("api/connections/broadcast", api.BroadcastApi.as_view(), name="connections-broadcast"),
    path("api/connections/<str:connection_id>", api.ConnectionDetailApi.as_view(), name="connection-detail"),
    path("internal/events/publish", api.InternalEventPublishApi.as_view(), name="internal-events-publish"),
    path("internal/connections/stats", api.InternalConnectionStatsApi.as_view(), name="internal-connection-stats"),
    path(
        "internal/connections/cleanup", api.InternalConnectionCleanupApi.as_view(), name="internal-connection-cleanup"
    ),
]

from apps.analytics import figures_api as f  # noqa: E402

U = "api/unified"
urlpatterns += [
    path("api/dashboard", f.DashboardApi.as_view(), name="analytics-dashboard"),
    path("api/kpis", f.KpiApi.as_view(), name="analytics-kpis"),
    path("api/analytics/calls", f.CallAnalyticsApi.as_view(), name="analytics-calls"),
    path("api/analytics/conversations", f.ConversationAnalyticsApi.as_view(), name="analytics-conversations"),
    path("api/reports", f.ReportApi.as_view(), name="analytics-reports"),
    path("api/metrics", f.MetricListApi.as_view(), name="analytics-metrics"),
    path("api/tenants/<uuid:tenant_id>/metrics", f.TenantMetricListApi.as_view(), name="analytics-tenant-metrics"),
    path(f"{U}/status", f.UnifiedStatusApi.as_view(), name="unified-status"),
    path(f"{U}/operations", f.UnifiedOperationsApi.as_view(), name="unified-operations"),
    path(f"{U}/analytics", f.UnifiedAnalyticsApi.as_view(), name="unified-analytics"),
    path(f"{U}/system", f.UnifiedSystemApi.as_view(), name="unified-system"),
    path(f"{U}/business-metrics", f.UnifiedBusinessMetricsApi.as_view(), name="unified-business-metrics"),
    path(f"{U}/trends", f.UnifiedTrendsApi.as_view(), name="unified-trends"),
    path(f"{U}/alerts", f.UnifiedAlertsApi.as_view(), name="unified-alerts"),
    path(f"{U}/alerts/<str:alert_id>/resolve", f.UnifiedAlertResolveApi.as_view(), name="unified-alert-resolve"),
    path(f"{U}/sla-metrics", f.UnifiedSlaMetricsApi.as_view(), name="unified-sla-metrics"),
    path(f"{U}/circuit-breakers", f.UnifiedCircuitBreakersApi.as_view(), name="unified-circuit-breakers"),
    path(f"{U}/cost-optimization", f.UnifiedCostOptimizationApi.as_view(), name="unified-cost-optimization"),
]
