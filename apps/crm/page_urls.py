from django.urls import path

from apps.crm import views

urlpatterns = [
    path("customers/", views.customer_list_page, name="customers"),
    path("appointments/", views.appointment_week_page, name="appointments"),
]
