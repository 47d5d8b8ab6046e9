from django.urls import path

from apps.conversations import api

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
]
