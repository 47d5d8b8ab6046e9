"""``/twilio/owner-voice`` (seed 002): included before the other Twilio webhooks in the root urlconf."""

from django.urls import path

from apps.owner import voice

urlpatterns = [path("twilio/owner-voice", voice.owner_voice, name="twilio-owner-voice")]
