from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("settings/team/", views.team, name="team"),
    path("profile/", views.profile, name="profile"),
    path("profile/push/", views.push_subscription, name="profile-push"),
    path("language/", views.language_switch, name="language-switch"),
]
