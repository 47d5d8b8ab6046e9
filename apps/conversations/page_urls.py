from django.urls import path

from apps.conversations import views

urlpatterns = [
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/alerts/", views.alerts_partial, name="inbox-alerts"),
    path("inbox/badge/", views.badge_counts, name="inbox-badge"),
    path("inbox/quick-replies/", views.quick_replies_page, name="inbox-quick-replies"),
    path("inbox/<uuid:conversation_id>/", views.thread_page, name="inbox-thread"),
    path("inbox/<uuid:conversation_id>/takeover", views.confirmed_action, {"name": "takeover"}, name="inbox-takeover"),
    path(
        "inbox/<uuid:conversation_id>/hand-back", views.confirmed_action, {"name": "hand_back"}, name="inbox-hand-back"
    ),
    path("inbox/<uuid:conversation_id>/reply", views.reply, name="inbox-reply"),
    path("inbox/<uuid:conversation_id>/resolve", views.confirmed_action, {"name": "resolve"}, name="inbox-resolve"),
    path("inbox/<uuid:conversation_id>/reopen", views.confirmed_action, {"name": "reopen"}, name="inbox-reopen"),
    path("inbox/<uuid:conversation_id>/handled", views.mark_handled, name="inbox-handled"),
    path("inbox/<uuid:conversation_id>/note", views.note, name="inbox-note"),
    path("inbox/<uuid:conversation_id>/assign", views.assign, name="inbox-assign"),
    path("inbox/<uuid:conversation_id>/unread", views.mark_unread, name="inbox-unread"),
]
