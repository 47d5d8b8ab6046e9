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
