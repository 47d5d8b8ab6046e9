"""Twilio's callbacks, first in the root urlconf: they are the busiest paths, and URL resolution
tries the patterns in order (the resolver walk was ~5 % of a webhook's CPU at the end of the list)."""

from django.urls import path

from apps.telephony import voice, webhooks

urlpatterns = [
    # Twilio webhooks (seed 000 Twilio-Server, seed 002 /twilio/*, seed 003 callbot)
    path("webhooks/twilio/call", webhooks.incoming_call, name="twilio-call"),
    path("webhooks/twilio/call/status/<str:call_sid>", webhooks.dial_status, name="twilio-call-status"),
    path("webhooks/twilio/call/screen/<str:call_sid>", webhooks.screen_call, name="twilio-call-screen"),
    path("webhooks/twilio/call/screen/<str:call_sid>/result", webhooks.screen_result, name="twilio-call-screen-result"),
    path("api/callbot/call-status", webhooks.call_status, name="callbot-call-status"),
    path("webhooks/twilio/sms", webhooks.incoming_sms, name="twilio-sms"),
    path("twilio/sms", webhooks.incoming_sms, name="twilio-sms-legacy"),
    path("webhooks/twilio/sms/status", webhooks.sms_status, name="twilio-sms-status"),
    # The AI voice assistant (seed 001 / seed 002 /twilio/voice); /twilio/owner-voice is apps/owner's
    path("twilio/voice", voice.voice, name="twilio-voice"),
    path("twilio/voice/collect", voice.voice_collect, name="twilio-voice-collect"),
]
