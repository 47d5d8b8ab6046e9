from django.urls import path

from apps.analytics import views

urlpatterns = [
    path("", views.overview, name="home"),
    path("overview/figures", views.overview_figures, name="overview-figures"),
    path("analytics/", views.analytics_page, name="analytics"),
    path("analytics/data", views.analytics_data, name="analytics-data"),
    path("bookings/", views.booking_list_page, name="bookings"),
    path("sw.js", views.service_worker, name="service-worker"),
]
