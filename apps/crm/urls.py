from django.urls import path

from apps.crm import api

urlpatterns = [
    path("appointments", api.AppointmentListApi.as_view(), name="appointment-list"),
    path("appointments/<str:appointment_id>", api.AppointmentDetailApi.as_view(), name="appointment-detail"),
]
