from django.urls import path

from apps.dispatch import api

urlpatterns = [
    path("dispatch/process", api.DispatchProcessApi.as_view(), name="dispatch-process"),
]
