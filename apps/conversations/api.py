"""AS-Call-Service conversation endpoints (seed 000), in the envelope."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.conversations import selectors, services
from apps.conversations.models import Conversation, LeadOutcome, LeadUrgency, Message
from apps.conversations.serializers import (
    ConversationNoteOutputSerializer,
    ConversationOutputSerializer,
    MessageOutputSerializer,
)
from nevermisscall.pagination import PageLimitPagination
from nevermisscall.permissions import requires


def conversation_or_404(conversation_id) -> Conversation:
    conversation = selectors.conversation_get(conversation_id=conversation_id)
    if conversation is None:
        raise exceptions.NotFound()
    return conversation


def paginated(request, view, queryset, serializer_class):
    paginator = PageLimitPagination()
    page = paginator.paginate_queryset(queryset, request, view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class ConversationListApi(APIView):
    permission_classes = [requires("conversations:write")]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
        handled_by = serializers.ChoiceField(choices=Conversation.Handler.choices, required=False)
        customer_number = serializers.RegexField(r"^\+?\d{1,15}$", required=False)
        date_from = serializers.DateTimeField(required=False)
        date_to = serializers.DateTimeField(required=False)
        lead_outcome = serializers.ChoiceField(
            choices=LeadOutcome.choices, required=False, help_text="Conversations whose lead ended so."
        )
        lead_urgency = serializers.ChoiceField(choices=LeadUrgency.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer], responses={200: ConversationOutputSerializer(many=True)}, tags=["conversations"]
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.conversation_list(filters=filters.validated_data)
        return paginated(request, self, queryset, ConversationOutputSerializer)


class ConversationDetailApi(APIView):
    permission_classes = [requires("conversations:write")]

    class ConversationUpdateInputSerializer(serializers.Serializer):
        customer_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
        notes = serializers.CharField(max_length=5000, allow_blank=True, required=False)
        tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=20, required=False)
        status = serializers.ChoiceField(choices=[Conversation.Status.RESOLVED], required=False)
        handled_by = serializers.ChoiceField(choices=[Conversation.Handler.AI], required=False)

    @extend_schema(responses={200: ConversationOutputSerializer}, tags=["conversations"])
    def get(self, request, conversation_id):
        return Response(ConversationOutputSerializer(conversation_or_404(conversation_id)).data)

    @extend_schema(
        request=ConversationUpdateInputSerializer, responses={200: ConversationOutputSerializer}, tags=["conversations"]
    )
    def put(self, request, conversation_id):
        conversation = conversation_or_404(conversation_id)
        serializer = self.ConversationUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.conversation_update(conversation=conversation, data=serializer.validated_data)
        return Response(ConversationOutputSerializer(conversation_or_404(conversation_id)).data)


class ConversationMessagesApi(APIView):
    permission_classes = [requires("conversations:write")]

    class FilterSerializer(serializers.Serializer):
        direction = serializers.ChoiceField(choices=Message.Direction.choices, required=False)
        status = serializers.ChoiceField(choices=Message.Status.choices, required=False)

    class MessageCreateInputSerializer(serializers.Serializer):
        body = serializers.CharField(max_length=1600, trim_whitespace=True)

    @extend_schema(
        parameters=[FilterSerializer], responses={200: MessageOutputSerializer(many=True)}, tags=["conversations"]
    )
    def get(self, request, conversation_id):
        conversation = conversation_or_404(conversation_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.message_list(conversation=conversation, filters=filters.validated_data)
        return paginated(request, self, queryset, MessageOutputSerializer)

    @extend_schema(
        request=MessageCreateInputSerializer, responses={201: MessageOutputSerializer}, tags=["conversations"]
    )
    def post(self, request, conversation_id):
        conversation = conversation_or_404(conversation_id)
        serializer = self.MessageCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_send_by_staff(
            conversation=conversation, body=serializer.validated_data["body"], user=request.user
        )
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)


class ConversationTakeoverApi(APIView):
    permission_classes = [requires("conversations:write")]

    @extend_schema(request=None, responses={200: ConversationOutputSerializer}, tags=["conversations"])
    def post(self, request, conversation_id):
        conversation = conversation_or_404(conversation_id)
        services.conversation_takeover(conversation=conversation, user=request.user)
        return Response(ConversationOutputSerializer(conversation_or_404(conversation_id)).data)


class ConversationResolveApi(APIView):
    permission_classes = [requires("conversations:write")]

    @extend_schema(request=None, responses={200: ConversationOutputSerializer}, tags=["conversations"])
    def post(self, request, conversation_id):
        conversation = conversation_or_404(conversation_id)
        services.conversation_resolve(conversation=conversation, user=request.user)
        return Response(ConversationOutputSerializer(conversation_or_404(conversation_id)).data)


def _action_api(name: str, service, description: str):
    """A POST that runs one conversation service for the signed-in user and answers the conversation."""

    class ActionApi(APIView):
        permission_classes = [requires("conversations:write")]

        @extend_schema(
            request=None,
            responses={200: ConversationOutputSerializer},
            tags=["conversations"],
            operation_id=f"conversation_{name}",
            description=description,
        )
        def post(self, request, conversation_id):
            conversation = conversation_or_404(conversation_id)
            service(conversation=conversation, user=request.user)
            return Response(ConversationOutputSerializer(conversation_or_404(conversation_id)).data)

    ActionApi.__name__ = ActionApi.__qualname__ = f"Conversation{name.title().replace('_', '')}Api"
    return ActionApi


ConversationHandBackApi = _action_api(
    "hand_back", services.conversation_hand_back, "Give the conversation back to the assistant; clears `needs_you`."
)
ConversationReopenApi = _action_api(
    "reopen",
    services.conversation_reopen,
    "Make a resolved conversation active again, handled by the caller (409 when the customer has a newer "
    "open conversation).",
)
ConversationHandledApi = _action_api(
    "mark_handled", services.conversation_mark_handled, "Clear `needs_you`: someone dealt with it outside the thread."
)


class ConversationAssignApi(APIView):
    permission_classes = [requires("conversations:write")]

    class AssignInputSerializer(serializers.Serializer):
        assignee_id = serializers.UUIDField(
            allow_null=True, help_text="A user of this business; null: nobody. Another business's user is refused."
        )

    @extend_schema(request=AssignInputSerializer, responses={200: ConversationOutputSerializer}, tags=["conversations"])
    def post(self, request, conversation_id):
        conversation = conversation_or_404(conversation_id)
        serializer = self.AssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.conversation_assign(
            conversation=conversation, assignee_id=serializer.validated_data["assignee_id"], user=request.user
        )
        return Response(ConversationOutputSerializer(conversation_or_404(conversation_id)).data)


class ConversationNotesApi(APIView):
    """Internal notes: the team's, never sent to the customer."""

    permission_classes = [requires("conversations:write")]

    class NoteCreateInputSerializer(serializers.Serializer):
        body = serializers.CharField(max_length=4000, trim_whitespace=True)

    @extend_schema(responses={200: ConversationNoteOutputSerializer(many=True)}, tags=["conversations"])
    def get(self, request, conversation_id):
        conversation = conversation_or_404(conversation_id)
        return paginated(
            request, self, selectors.note_list(conversation=conversation), ConversationNoteOutputSerializer
        )

    @extend_schema(
        request=NoteCreateInputSerializer, responses={201: ConversationNoteOutputSerializer}, tags=["conversations"]
    )
    def post(self, request, conversation_id):
        conversation = conversation_or_404(conversation_id)
        serializer = self.NoteCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.conversation_note_add(
            conversation=conversation, user=request.user, body=serializer.validated_data["body"]
        )
        return Response(ConversationNoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)
