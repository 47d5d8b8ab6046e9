from django.urls import path

from apps.telephony import api, voice, webhooks

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
    # The AI voice assistant (seed 001 / seed 002 /twilio/voice, /twilio/owner-voice)
    path("twilio/voice", voice.voice, name="twilio-voice"),
    path("twilio/voice/collect", voice.voice_collect, name="twilio-voice-collect"),
    path("twilio/owner-voice", voice.owner_voice, name="twilio-owner-voice"),
    # PNS-Provisioning-Service
    path("phone-numbers", api.PhoneNumberListApi.as_view(), name="phone-number-list"),
    path("phone-numbers/search", api.PhoneNumberSearchApi.as_view(), name="phone-number-search"),
    path("phone-numbers/provision", api.PhoneNumberProvisionApi.as_view(), name="phone-number-provision"),
    path("phone-numbers/stats", api.PhoneNumberStatsApi.as_view(), name="phone-number-stats"),
    path("phone-numbers/<str:number_id>", api.PhoneNumberDetailApi.as_view(), name="phone-number-detail"),
    # AS-Call-Service: calls
    path("api/calls", api.CallListApi.as_view(), name="call-list"),
    path("api/calls/<str:call_id>", api.CallDetailApi.as_view(), name="call-detail"),
    path("api/calls/<str:call_id>/participants", api.CallParticipantsApi.as_view(), name="call-participants"),
    path("api/calls/<str:call_id>/metadata", api.CallMetadataApi.as_view(), name="call-metadata"),
    path("api/calls/<str:call_id>/conversations", api.CallConversationsApi.as_view(), name="call-conversations"),
    path("internal/calls/process", api.InternalCallProcessApi.as_view(), name="internal-call-process"),
    path("internal/calls/<str:call_id>/missed", api.InternalCallMissedApi.as_view(), name="internal-call-missed"),
    path("internal/calls/<str:call_id>/status", api.InternalCallStatusApi.as_view(), name="internal-call-status"),
]
