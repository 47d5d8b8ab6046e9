"""Dashboard pages: the inbox (needs you first, unread and needs-reply markers) and a thread with
take over / hand back / resolve / reopen (each confirmed), replies, quick replies, internal notes,
assignment and the customer panel. Thin: every change is a service; refusals become flash lines."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.conversations import selectors, services
from apps.conversations.models import Conversation
from nevermisscall.errors import DomainError
from nevermisscall.views import business_member_required, error_lines, paginate, query_choice, query_without_page

INBOX_VIEWS = [
    ("active", gettext_lazy("Open")),
    ("needs_you", gettext_lazy("Needs you")),
    ("mine", gettext_lazy("Mine")),
    ("unassigned", gettext_lazy("Unassigned")),
    ("resolved", gettext_lazy("Resolved")),
]


@business_member_required
def inbox_page(request):
    view = query_choice(request, "status", dict(INBOX_VIEWS), default="active", label=_("inbox view"))
    context = {
        "page": paginate(request, selectors.inbox_list(user=request.user, view=view)),
        "query": query_without_page(request),
        "status": view,
        "statuses": INBOX_VIEWS,
        "nav": "inbox",
    }
    template = "conversations/_inbox_list.html" if request.htmx else "conversations/inbox.html"
    return render(request, template, context)


@business_member_required
@require_GET
def alerts_partial(request):
    """The pinned "Needs you" banner and the alerts switch, for every dashboard page (alerts.js)."""
    return render(request, "conversations/_alerts.html", {"needs_you": selectors.needs_you_list()})


@business_member_required
@require_GET
def badge_counts(request):
    """The tab bar's Inbox badge for the signed-in person, re-read by live.js after live events."""
    return JsonResponse({"inbox": selectors.conversation_unread_count(user=request.user)})


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
    teammates = selectors.teammate_list(business=request.tenant)
    context = {
        "conversation": conversation,
        "thread": selectors.conversation_timeline(conversation=conversation),
        "can_write": request.user.has_business_permission("conversations:write"),
        "panel": selectors.customer_panel(conversation=conversation),
        "quick_replies": selectors.quick_reply_list(),
        "teammates": teammates,
        "assignee": next((person for person in teammates if person.pk == conversation.assigned_to), None),
        "actions": _actions_of(conversation),
        "nav": "inbox",
    }
    services.conversation_mark_read(conversation=conversation, user=request.user)  # Seen as it is now.
    # A live refresh swaps the messages and, out of band, the panels (the turn may have changed them).
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


# Actions that change who answers the customer, or whether the conversation is open: each asks first.
# name: (button, question)
CONFIRMATIONS = {
    "takeover": (
        gettext_lazy("Take over"),
        gettext_lazy("Take over from the assistant? It stops answering this customer until you hand it back."),
    ),
    "hand_back": (
        gettext_lazy("Hand back to the assistant"),
        gettext_lazy("Hand back to the assistant? It answers this customer's next text."),
    ),
    "resolve": (
        gettext_lazy("Resolve"),
        gettext_lazy("Resolve this conversation? It leaves the open inbox; you can reopen it."),
    ),
    "reopen": (
        gettext_lazy("Reopen"),
        gettext_lazy("Reopen this conversation? You will be handling it, not the assistant."),
    ),
}
_SERVICES = {
    "takeover": lambda c, user: services.conversation_takeover(conversation=c, user=user),
    "hand_back": lambda c, user: services.conversation_hand_back(conversation=c, user=user),
    "resolve": lambda c, user: services.conversation_resolve(conversation=c, user=user),
    "reopen": lambda c, user: services.conversation_reopen(conversation=c, user=user),
}


def _actions_of(conversation: Conversation) -> list[dict]:
    """The confirmed actions the thread offers in the conversation's state, primary first."""
    if conversation.status != Conversation.Status.ACTIVE:
        names = ["reopen"]
    elif conversation.handled_by == Conversation.Handler.HUMAN:
        names = ["hand_back", "resolve"]
    else:
        names = ["takeover", "resolve"]
    urls = {
        "takeover": "inbox-takeover",
        "hand_back": "inbox-hand-back",
        "resolve": "inbox-resolve",
        "reopen": "inbox-reopen",
    }
    return [
        {
            "name": name,
            "url": reverse(urls[name], kwargs={"conversation_id": conversation.pk}),
            "button": CONFIRMATIONS[name][0],
            "question": CONFIRMATIONS[name][1],
            "style": "" if index == 0 else "secondary",
        }
        for index, name in enumerate(names)
    ]


@business_member_required
@require_POST
def confirmed_action(request, conversation_id, name):
    """Take over, hand back, resolve, reopen (``name``, from the URL). POST with ``confirm=yes``
    acts; a POST without it (no JavaScript, so no dialog) answers with a page that asks, whose form
    posts again with ``confirm=yes``."""
    if request.POST.get("confirm") != "yes":
        conversation = _conversation_or_404(conversation_id)
        button, question = CONFIRMATIONS[name]
        context = {"conversation": conversation, "action": name, "button": button, "question": question, "nav": "inbox"}
        return render(request, "conversations/confirm.html", context)
    return _act(request, conversation_id, lambda c: _SERVICES[name](c, request.user))


@business_member_required
@require_POST
def mark_handled(request, conversation_id):
    return _act(
        request, conversation_id, lambda c: services.conversation_mark_handled(conversation=c, user=request.user)
    )


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
def note(request, conversation_id):
    body = request.POST.get("body", "")
    return _act(
        request, conversation_id, lambda c: services.conversation_note_add(conversation=c, user=request.user, body=body)
    )


@business_member_required
@require_POST
def assign(request, conversation_id):
    assignee = request.POST.get("assignee") or None
    return _act(
        request,
        conversation_id,
        lambda c: services.conversation_assign(conversation=c, assignee_id=assignee, user=request.user),
    )


@business_member_required
@require_POST
def mark_unread(request, conversation_id):
    conversation = _conversation_or_404(conversation_id)
    services.conversation_mark_unread(conversation=conversation, user=request.user)
    return redirect("inbox")


@business_member_required
def quick_replies_page(request):
    """The business's quick replies: add and delete (owners and staff who may write)."""
    can_write = request.user.has_business_permission("conversations:write")
    if request.method == "POST":
        if not can_write:
            messages.error(request, _("You cannot change conversations."))
        else:
            try:
                if request.POST.get("delete"):
                    services.quick_reply_delete(quick_reply_id=request.POST["delete"])
                else:
                    services.quick_reply_create(title=request.POST.get("title", ""), body=request.POST.get("body", ""))
                    messages.success(request, _("Quick reply saved."))
            except DomainError as exc:
                messages.error(request, " ".join(error_lines(exc)))
        return redirect("inbox-quick-replies")
    context = {"quick_replies": selectors.quick_reply_list(), "can_write": can_write, "nav": "inbox"}
    return render(request, "conversations/quick_replies.html", context)
