from django.urls import path

from apps.conversations import views

urlpatterns = [
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/<uuid:conversation_id>/", views.thread_page, name="inbox-thread"),
    path("inbox/<uuid:conversation_id>/takeover", views.takeover, name="inbox-takeover"),
    path("inbox/<uuid:conversation_id>/reply", views.reply, name="inbox-reply"),
    path("inbox/<uuid:conversation_id>/resolve", views.resolve, name="inbox-resolve"),
]
