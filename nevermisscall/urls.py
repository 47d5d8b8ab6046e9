from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from nevermisscall import health, media
from nevermisscall.ratelimit import auth_throttled
from nevermisscall.views import PasswordResetView

handler400 = "nevermisscall.envelope.handler400"
handler403 = "nevermisscall.envelope.handler403"
handler404 = "nevermisscall.envelope.handler404"
handler500 = "nevermisscall.envelope.handler500"

urlpatterns = [
    path("", include("apps.telephony.webhook_urls")),
    path("", include("apps.owner.webhook_urls")),
    path("", include("apps.analytics.page_urls")),
    path(
        "login/",
        auth_throttled("username")(auth_views.LoginView.as_view(template_name="registration/login.html")),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_throttled("email")(PasswordResetView.as_view()), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("", include("apps.accounts.page_urls")),
    path("", include("apps.telephony.page_urls")),
    path("", include("apps.conversations.page_urls")),
    path("", include("apps.crm.page_urls")),
    path("", include("apps.outbox.page_urls")),
    path("", include("apps.campaigns.page_urls")),
    path("", include("apps.alerts.page_urls")),
    path("", include("apps.tenants.page_urls")),
    path("admin/login/", auth_throttled("username")(admin.site.login)),  # Before the admin's own.
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("health", health.health, name="health"),
    path("health/live", health.health_live, name="health-live"),
    path("health/ready", health.readyz, name="health-ready"),
    path("health/detailed", health.health_detailed, name="health-detailed"),
    path("metrics", health.metrics_json, name="metrics"),
    path("metrics/prometheus", health.metrics_prometheus, name="metrics-prometheus"),
    path("", include("apps.ops.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # Private media (nevermisscall/media.py); nothing serves MEDIA_ROOT publicly.
    path("media/signed/<str:token>", media.media_signed_view, name="media-signed"),
    re_path(rf"^media/(?P<name>{media.NAME_PATTERN})$", media.MediaView.as_view(), name="media"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.tenants.urls")),
    path("", include("apps.analytics.urls")),
    path("", include("apps.telephony.urls")),
    path("", include("apps.conversations.urls")),
    path("", include("apps.dispatch.urls")),
    path("", include("apps.crm.urls")),
    path("", include("apps.outbox.urls")),
    path("", include("apps.campaigns.urls")),
    path("", include("apps.alerts.urls")),
    path("", include("apps.owner.urls")),
]
