"""Seed 002's CRM conversation views (``/v1/crm/conversations…``) and their QA review.

Here, not in apps/crm, because crm sits below conversations (it may not import them); the review
itself is crm's row (``crm.ConversationReview``), written through ``crm.services``. Plain JSON and
seed 002's errors; ``X-API-Key``, ``X-Owner-Token`` or a member's JWT.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from apps.conversations import selectors
from apps.conversations.models import Conversation
from apps.crm import selectors as crm_selectors
from apps.crm import services as crm_services
from apps.crm.models import ConversationReview
from nevermisscall.permissions import requires
from nevermisscall.seed002 import Seed002APIView

MAX_LIMIT = 200
DETAIL_MESSAGES = 200


class ReviewSerializer(serializers.Serializer):
    flags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=20, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=20, required=False)
    outcome = serializers.ChoiceField(choices=ConversationReview.Outcome.choices, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one of flags, tags, outcome, notes.")
        for name in ("flags", "tags"):
            if name in attrs:
                attrs[name] = list(dict.fromkeys(value.strip() for value in attrs[name] if value.strip()))
        return attrs


class ReviewOutputSerializer(serializers.Serializer):
    flags = serializers.ListField(child=serializers.CharField())
    tags = serializers.ListField(child=serializers.CharField())
    outcome = serializers.CharField()
    notes = serializers.CharField()
    reviewed_by = serializers.UUIDField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


EMPTY_REVIEW = {"flags": [], "tags": [], "outcome": "", "notes": "", "reviewed_by": None, "updated_at": None}


class CrmConversationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer_number = serializers.CharField()
    customer_name = serializers.CharField()
    status = serializers.CharField()
    handled_by = serializers.CharField()
    lead_outcome = serializers.CharField()
    lead_job_type = serializers.CharField()
    appointment_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    qa = serializers.SerializerMethodField()

    def get_qa(self, conversation) -> ReviewOutputSerializer:
        review = self.context["reviews"].get(str(conversation.pk))
        return ReviewOutputSerializer(review).data if review else dict(EMPTY_REVIEW)


class CrmMessageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    direction = serializers.CharField()
    kind = serializers.CharField()
    body = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class CrmConversationDetailSerializer(CrmConversationSerializer):
    messages = serializers.SerializerMethodField()

    def get_messages(self, conversation) -> CrmMessageSerializer(many=True):
        latest = list(conversation.messages.order_by("-created_at", "-id")[:DETAIL_MESSAGES])
        return CrmMessageSerializer(latest[::-1], many=True).data


def _conversation_or_404(conversation_id) -> Conversation:
    conversation = selectors.conversation_get(conversation_id=conversation_id)
    if conversation is None:
        raise exceptions.NotFound("Conversation not found.")
    return conversation


def _context(conversations) -> dict:
    return {"reviews": crm_selectors.conversation_reviews(conversation_ids=[c.pk for c in conversations])}


CONVERSATION_ID = OpenApiParameter("conversation_id", str, OpenApiParameter.PATH)


class CrmConversationListApi(Seed002APIView):
    permission_classes = [requires("conversations:write")]

    class Query(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
        offset = serializers.IntegerField(min_value=0, default=0)
        status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
        customer_number = serializers.RegexField(r"^\+?\d{1,15}$", required=False)
        outcome = serializers.ChoiceField(
            choices=ConversationReview.Outcome.choices, required=False, help_text="The QA review's outcome."
        )
        flagged = serializers.BooleanField(required=False, help_text="Only conversations a reviewer flagged.")

    @extend_schema(
        operation_id="crm_conversations_list",
        parameters=[Query],
        responses={200: CrmConversationSerializer(many=True)},
        tags=["crm"],
    )
    def get(self, request):
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        queryset = Conversation.objects.order_by("-created_at", "-id")
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        if params.get("customer_number"):
            queryset = queryset.filter(customer_number=params["customer_number"])
        if params.get("outcome"):
            queryset = queryset.filter(pk__in=crm_selectors.reviewed_conversation_ids(outcome=params["outcome"]))
        if params.get("flagged"):
            queryset = queryset.filter(pk__in=crm_selectors.flagged_conversation_ids())
        page = list(queryset[params["offset"] : params["offset"] + params["limit"]])
        return Response(CrmConversationSerializer(page, many=True, context=_context(page)).data)


class CrmConversationDetailApi(Seed002APIView):
    permission_classes = [requires("conversations:write")]

    @extend_schema(
        operation_id="crm_conversations_get",
        parameters=[CONVERSATION_ID],
        responses={200: CrmConversationDetailSerializer},
        tags=["crm"],
    )
    def get(self, request, conversation_id):
        conversation = _conversation_or_404(conversation_id)
        return Response(CrmConversationDetailSerializer(conversation, context=_context([conversation])).data)


class CrmConversationQaApi(Seed002APIView):
    permission_classes = [requires("conversations:write")]

    @extend_schema(
        operation_id="crm_conversations_qa",
        parameters=[CONVERSATION_ID],
        request=ReviewSerializer,
        responses={200: ReviewOutputSerializer},
        tags=["crm"],
    )
    def patch(self, request, conversation_id):
        conversation = _conversation_or_404(conversation_id)
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user if getattr(request.user, "pk", None) else None
        review = crm_services.conversation_review_save(
            conversation_id=conversation.pk, user=user, **serializer.validated_data
        )
        return Response(ReviewOutputSerializer(review).data)
