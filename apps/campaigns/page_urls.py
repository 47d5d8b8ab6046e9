from django.urls import path

from apps.campaigns import views

urlpatterns = [
    path("campaigns/", views.campaigns_page, name="campaigns"),
    path("campaigns/pause/", views.campaign_pause_toggle, name="campaigns-pause"),
    path("campaigns/owner-texts/", views.owner_texts_update, name="campaigns-owner-texts"),
    path("recovery/", views.recovery_page, name="recovery"),
]
