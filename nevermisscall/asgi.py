"""ASGI entry point: HTTP through Django, websockets through Channels (served by daphne)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from nevermisscall.routing import websocket_urlpatterns  # noqa: E402
from nevermisscall.tenancy.asgi import WebsocketTenantMiddleware  # noqa: E402
from nevermisscall.webhook_handler import PathRouter, TwilioWebhookHandler  # noqa: E402

websocket_application = AllowedHostsOriginValidator(
    AuthMiddlewareStack(WebsocketTenantMiddleware(URLRouter(websocket_urlpatterns)))
)

application = ProtocolTypeRouter(
    {
        "http": PathRouter(webhooks=TwilioWebhookHandler(), default=django_asgi_app),
        "websocket": websocket_application,
    }
)
