from django.urls import path

from apps.telephony import views

urlpatterns = [
    path("calls/", views.call_list_page, name="calls"),
    path("settings/phone-numbers/", views.phone_numbers_page, name="phone-numbers"),
]
