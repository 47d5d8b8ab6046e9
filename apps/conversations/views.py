"""Dashboard pages: the conversation inbox and a thread with take over, reply and resolve."""

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.conversations import selectors, services
from apps.conversations.models import Conversation, Message
from nevermisscall.errors import DomainError
from nevermisscall.views import business_member_required, error_lines, paginate, query_without_page


def _inbox_queryset(status: str):
    last_body = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at").values("body")[:1]
    queryset = Conversation.objects.annotate(last_body=Subquery(last_body))
    if status in Conversation.Status.values:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-last_message_at", "-created_at")


@business_member_required
def inbox_page(request):
    status = request.GET.get("status", Conversation.Status.ACTIVE)
    context = {
        "page": paginate(request, _inbox_queryset(status)),
        "query": query_without_page(request),
        "status": status,
        "statuses": Conversation.Status.choices,
        "nav": "inbox",
    }
    template = "conversations/_inbox_list.html" if request.htmx else "conversations/inbox.html"
    return render(request, template, context)


def _conversation_or_404(conversation_id) -> Conversation:
    conversation = selectors.conversation_get(conversation_id=conversation_id)
    if conversation is None:
        raise Http404
    return conversation


def thread_url_of_message(message_id) -> str | None:
    """The thread a delivery's message belongs to (the deliveries page links its cause there)."""
    conversation_id = selectors.message_conversation_id(message_id=message_id)
    return reverse("inbox-thread", kwargs={"conversation_id": conversation_id}) if conversation_id else None


def thread_url_of_conversation(conversation_id) -> str | None:
    conversation = selectors.conversation_get(conversation_id=conversation_id)
    return reverse("inbox-thread", kwargs={"conversation_id": conversation.pk}) if conversation else None


@business_member_required
def thread_page(request, conversation_id):
    conversation = _conversation_or_404(conversation_id)
    context = {
        "conversation": conversation,
        "thread": selectors.message_list(conversation=conversation),
        "can_write": request.user.has_business_permission("conversations:write"),
        "nav": "inbox",
    }
    # A live refresh swaps the messages and, out of band, the lead panel (the turn may have changed it).
    template = "conversations/_thread_live.html" if request.htmx else "conversations/thread.html"
    return render(request, template, context)


def _act(request, conversation_id, action):
    conversation = _conversation_or_404(conversation_id)
    if not request.user.has_business_permission("conversations:write"):
        messages.error(request, _("You cannot change conversations."))
    else:
        try:
            action(conversation)
        except DomainError as exc:
            messages.error(request, " ".join(error_lines(exc)))
    return redirect("inbox-thread", conversation_id=conversation.pk)


@business_member_required
@require_POST
def takeover(request, conversation_id):
    return _act(request, conversation_id, lambda c: services.conversation_takeover(conversation=c, user=request.user))


@business_member_required
@require_POST
def reply(request, conversation_id):
    body = request.POST.get("body", "").strip()

    def send(conversation):
        if not body:
            messages.error(request, _("Write a message first."))
            return
        services.message_send_by_staff(conversation=conversation, body=body[:1600], user=request.user)

    return _act(request, conversation_id, send)


@business_member_required
@require_POST
def resolve(request, conversation_id):
    return _act(request, conversation_id, lambda c: services.conversation_resolve(conversation=c))
