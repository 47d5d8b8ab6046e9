from django.urls import path

from apps.telephony import api

urlpatterns = [
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
