from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("auth/register", api.RegisterApi.as_view(), name="auth-register"),
    path("auth/login", api.LoginApi.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/validate", api.ValidateTokenApi.as_view(), name="auth-validate"),
    path("auth/profile", api.ProfileApi.as_view(), name="auth-profile"),
    path("auth/change-password", api.ChangePasswordApi.as_view(), name="auth-change-password"),
    path("users/validate", api.UserValidateApi.as_view(), name="users-validate"),
    path("users/profiles", api.UserCreateApi.as_view(), name="users-create"),
    path("users/by-tenant/<str:tenant_id>", api.UsersByTenantApi.as_view(), name="users-by-tenant"),
    path("users/<str:user_id>/profile", api.UserProfileApi.as_view(), name="user-profile"),
    path("users/<str:user_id>/profile/photo", api.UserPhotoApi.as_view(), name="user-photo"),
    path("users/<str:user_id>/preferences", api.UserPreferencesApi.as_view(), name="user-preferences"),
    path("users/<str:user_id>/status", api.UserStatusApi.as_view(), name="user-status"),
]
