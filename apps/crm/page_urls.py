from django.urls import path

from apps.crm import views

urlpatterns = [
    path("customers/", views.customer_list_page, name="customers"),
    path("customers/<uuid:customer_id>/", views.customer_detail_page, name="customer-detail"),
    path("customers/<uuid:customer_id>/merge/", views.customer_merge_page, name="customer-merge"),
    path("appointments/", views.appointment_week_page, name="appointments"),
    path("appointments/day/", views.technician_day_page, name="technician-day"),
    path("appointments/<uuid:appointment_id>/move/", views.appointment_move, name="appointment-move"),
]
