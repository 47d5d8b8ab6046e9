from django.urls import path

from apps.conversations import api, crm_api, session_api, widget

urlpatterns = [
    path("api/conversations", api.ConversationListApi.as_view(), name="conversation-list"),
    path("api/conversations/<str:conversation_id>", api.ConversationDetailApi.as_view(), name="conversation-detail"),
    path(
        "api/conversations/<str:conversation_id>/messages",
        api.ConversationMessagesApi.as_view(),
        name="conversation-messages",
    ),
    path(
        "api/conversations/<str:conversation_id>/takeover",
        api.ConversationTakeoverApi.as_view(),
        name="conversation-takeover",
    ),
    path(
        "api/conversations/<str:conversation_id>/resolve",
        api.ConversationResolveApi.as_view(),
        name="conversation-resolve",
    ),
    # The owner's cockpit (issue 12): additions to the seed's conversation API.
    path(
        "api/conversations/<str:conversation_id>/handback",
        api.ConversationHandBackApi.as_view(),
        name="conversation-hand-back",
    ),
    path(
        "api/conversations/<str:conversation_id>/reopen",
        api.ConversationReopenApi.as_view(),
        name="conversation-reopen",
    ),
    path(
        "api/conversations/<str:conversation_id>/handled",
        api.ConversationHandledApi.as_view(),
        name="conversation-handled",
    ),
    path(
        "api/conversations/<str:conversation_id>/assign",
        api.ConversationAssignApi.as_view(),
        name="conversation-assign",
    ),
    path(
        "api/conversations/<str:conversation_id>/internal-notes",
        api.ConversationNotesApi.as_view(),
        name="conversation-internal-notes",
    ),
    # Seed 002: voice session API and provider-agnostic telephony API
    path("v1/voice/session/start", session_api.VoiceSessionStartApi.as_view(), name="voice-session-start"),
    path(
        "v1/voice/session/<str:session_id>/input",
        session_api.VoiceSessionInputApi.as_view(),
        name="voice-session-input",
    ),
    path("v1/voice/session/<str:session_id>/end", session_api.VoiceSessionEndApi.as_view(), name="voice-session-end"),
    path("telephony/inbound", session_api.TelephonyInboundApi.as_view(), name="telephony-inbound"),
    path("telephony/audio", session_api.TelephonyAudioApi.as_view(), name="telephony-audio"),
    path("telephony/end", session_api.TelephonyEndApi.as_view(), name="telephony-end"),
    # Seed 002: the web-chat widget's API, and the chat page embed.js puts in an iframe
    path("v1/widget/session/start", session_api.WidgetSessionStartApi.as_view(), name="widget-session-start"),
    path(
        "v1/widget/session/<str:session_id>/input",
        session_api.WidgetSessionInputApi.as_view(),
        name="widget-session-input",
    ),
    path(
        "v1/widget/session/<str:session_id>/end", session_api.WidgetSessionEndApi.as_view(), name="widget-session-end"
    ),
    path("widget/chat", widget.chat_page, name="widget-chat"),
    # Seed 002: the CRM's conversation views and QA (the review is crm's row)
    path("v1/crm/conversations", crm_api.CrmConversationListApi.as_view(), name="crm-conversation-list"),
    path(
        "v1/crm/conversations/<str:conversation_id>",
        crm_api.CrmConversationDetailApi.as_view(),
        name="crm-conversation-detail",
    ),
    path(
        "v1/crm/conversations/<str:conversation_id>/qa",
        crm_api.CrmConversationQaApi.as_view(),
        name="crm-conversation-qa",
    ),
]
