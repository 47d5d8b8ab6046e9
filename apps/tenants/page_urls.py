from django.urls import path

from apps.tenants import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("onboarding/preview/area/", views.area_preview, name="onboarding-area-preview"),
    path("onboarding/preview/missed-call/", views.missed_call_preview, name="onboarding-missed-call-preview"),
    path("onboarding/<str:step>/", views.onboarding, name="onboarding-step"),
    path("settings/", views.settings_page, name="settings-business"),
    path("settings/api-keys/", views.api_keys_page, name="api-keys"),
    path("settings/<str:section>/", views.settings_page, name="settings-section"),
    path("language/", views.language_switch, name="language-switch"),
]
