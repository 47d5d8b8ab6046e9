"""``POST /dispatch/process`` (seed 000, Dispatch-Bot-AI)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apps.dispatch import services
from apps.dispatch.serializers import ProcessConversationRequestSerializer, ProcessConversationResponseSerializer
from nevermisscall.permissions import requires
from nevermisscall.service_auth import ServiceKeyAuthentication


class DispatchProcessApi(APIView):
    """Read a conversation and decide the next step: extracted details, validation, slot, reply.

    Auth: a business credential (JWT, owner token, API key, session) for the caller's own
    business, or ``x-service-key`` with ``X-Business-ID`` for internal callers. The answer is
    computed from the request alone; the call is recorded in the business's AI usage.
    """

    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, ServiceKeyAuthentication]
    permission_classes = [requires("conversations:write")]

    @extend_schema(
        operation_id="dispatch_process",
        request=ProcessConversationRequestSerializer,
        responses={200: ProcessConversationResponseSerializer},
        parameters=[
            OpenApiParameter(
                "X-Business-ID",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="With x-service-key: the business.",
            )
        ],
        tags=["dispatch"],
    )
    def post(self, request):
        serializer = ProcessConversationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        response = services.conversation_process(request=serializer.validated_data)
        return Response(response)
