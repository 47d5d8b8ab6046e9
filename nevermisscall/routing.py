"""Websocket routes of every app, named in ``settings.WEBSOCKET_URLPATTERNS`` (the Twilio media
stream joins with the voice issue)."""

from django.conf import settings
from django.utils.module_loading import import_string

websocket_urlpatterns = [route for path in settings.WEBSOCKET_URLPATTERNS for route in import_string(path)]
