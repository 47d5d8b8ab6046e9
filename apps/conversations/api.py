"""AS-Call-Service conversation endpoints (seed 000), in the envelope."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.conversations import selectors, services
from apps.conversations.models import Conversation, LeadOutcome, LeadUrgency, Message
from apps.conversations.serializers import ConversationOutputSerializer, MessageOutputSerializer
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
        services.conversation_resolve(conversation=conversation)
        return Response(ConversationOutputSerializer(conversation_or_404(conversation_id)).data)
