from django.urls import path

from apps.outbox import views

urlpatterns = [
    path("deliveries/", views.delivery_list_page, name="deliveries"),
    path("deliveries/<uuid:delivery_id>/", views.delivery_detail_page, name="deliveries-detail"),
    path("deliveries/<uuid:delivery_id>/retry", views.delivery_retry, name="deliveries-retry"),
    path("settings/webhooks/", views.webhooks_page, name="webhooks"),
]
