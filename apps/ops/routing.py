from django.urls import path

from apps.ops.logs import LogStreamConsumer

websocket_urlpatterns = [path("api/logs/stream", LogStreamConsumer.as_asgi())]
