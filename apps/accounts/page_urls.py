from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("settings/team/", views.team, name="team"),
]
