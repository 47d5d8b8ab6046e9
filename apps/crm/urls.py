from django.urls import path

from apps.crm import api, crm_api

urlpatterns = [
    path("appointments", api.AppointmentListApi.as_view(), name="appointment-list"),
    path("appointments/<str:appointment_id>", api.AppointmentDetailApi.as_view(), name="appointment-detail"),
    path("v1/crm/customers", crm_api.CustomerListApi.as_view(), name="crm-customer-list"),
    path("v1/crm/customers/search", crm_api.CustomerSearchApi.as_view(), name="crm-customer-search"),
    path("v1/crm/customers/<str:customer_id>", crm_api.CustomerDetailApi.as_view(), name="crm-customer-detail"),
    path("v1/crm/customers/<str:customer_id>/merge", crm_api.CustomerMergeApi.as_view(), name="crm-customer-merge"),
    path(
        "v1/crm/customers/<str:customer_id>/appointments",
        crm_api.CustomerAppointmentsApi.as_view(),
        name="crm-customer-appointments",
    ),
    path(
        "v1/crm/customers/<str:customer_id>/timeline",
        crm_api.CustomerTimelineApi.as_view(),
        name="crm-customer-timeline",
    ),
    path("v1/crm/appointments", crm_api.CrmAppointmentListApi.as_view(), name="crm-appointment-list"),
    path(
        "v1/crm/appointments/<str:appointment_id>",
        crm_api.CrmAppointmentDetailApi.as_view(),
        name="crm-appointment-detail",
    ),
]
