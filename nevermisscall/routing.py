"""Websocket routes of every app (the Twilio media stream joins with the voice issue)."""

from apps.analytics.routing import websocket_urlpatterns as analytics_routes

websocket_urlpatterns = [*analytics_routes]
