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

import sys as _sys  # noqa: E402

if os.environ.get("NMC_SWITCH_INTERVAL"):
    _sys.setswitchinterval(float(os.environ["NMC_SWITCH_INTERVAL"]))
if os.environ.get("NMC_GC_FREEZE"):
    import gc as _gc

    _gc.freeze()
