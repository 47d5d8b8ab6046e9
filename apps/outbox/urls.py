from django.urls import path

from apps.outbox import api

urlpatterns = [
    path("api/deliveries", api.DeliveryListApi.as_view(), name="delivery-list"),
    path("api/deliveries/<str:delivery_id>", api.DeliveryDetailApi.as_view(), name="delivery-detail"),
    path("api/deliveries/<str:delivery_id>/retry", api.DeliveryRetryApi.as_view(), name="delivery-retry"),
    path("api/webhook-endpoints", api.WebhookEndpointListApi.as_view(), name="webhook-endpoint-list"),
    path(
        "api/webhook-endpoints/<str:endpoint_id>",
        api.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint-detail",
    ),
    path(
        "api/webhook-endpoints/<str:endpoint_id>/rotate-secret",
        api.WebhookEndpointRotateSecretApi.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        "api/webhook-endpoints/<str:endpoint_id>/test",
        api.WebhookEndpointTestApi.as_view(),
        name="webhook-endpoint-test",
    ),
]
