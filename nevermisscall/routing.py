"""Websocket routes of every app. The dashboard (``/ws/dashboard/``) and the Twilio media stream
(``/api/callbot/audio-stream``) register here when their issues land."""

websocket_urlpatterns: list = []
