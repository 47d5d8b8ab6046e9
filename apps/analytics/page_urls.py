from django.urls import path

from apps.analytics import views

urlpatterns = [
    path("", views.overview, name="home"),
    path("overview/figures", views.overview_figures, name="overview-figures"),
]
