from django.urls import path

from apps.conversations import views

urlpatterns = [
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/<uuid:conversation_id>/", views.thread_page, name="conversation-thread"),
    path("inbox/<uuid:conversation_id>/takeover", views.takeover, name="conversation-takeover"),
    path("inbox/<uuid:conversation_id>/reply", views.reply, name="conversation-reply"),
    path("inbox/<uuid:conversation_id>/resolve", views.resolve, name="conversation-resolve"),
]
