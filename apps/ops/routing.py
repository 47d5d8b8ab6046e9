from django.urls import path

from apps.ops.live import OpsLiveConsumer
from apps.ops.logs import LogStreamConsumer

websocket_urlpatterns = [
    path("api/logs/stream", LogStreamConsumer.as_asgi()),
    path("ws/ops/", OpsLiveConsumer.as_asgi()),
]
