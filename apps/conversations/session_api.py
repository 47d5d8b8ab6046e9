"""Seed 002's session APIs over ``AssistantSession``: the voice session API (``/v1/voice/session``),
the provider-agnostic telephony API (``/telephony``) and the web-chat widget (``/v1/widget/session``).

Voice and telephony callers authenticate as the business (``X-API-Key``, ``X-Owner-Token``, a JWT,
or ``x-service-key`` with ``X-Business-ID``); the widget with the public ``X-Widget-Token`` the
business embeds in its page (or an API key). Sessions live in the business's schema, so one
business's credentials never reach another's sessions: an unknown id is a 404.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.conversations import sessions
from apps.conversations.models import AssistantSession
from apps.tenants.authentication import ApiKeyAuthentication
from apps.tenants.models import ApiCredential
from nevermisscall.ids import parse_uuid
from nevermisscall.permissions import requires
from nevermisscall.phone import InvalidPhoneNumber, to_e164
from nevermisscall.seed002 import Seed002APIView
from nevermisscall.service_auth import ServiceKeyAuthentication

# --- shapes -------------------------------------------------------------------------------------


class SessionStartSerializer(serializers.Serializer):
    caller_phone = serializers.CharField(max_length=40)
    provider_call_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    lead_source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate_caller_phone(self, value):
        try:
            return to_e164(value)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError("Enter a valid phone number.") from exc


class SessionInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, required=False, allow_blank=False)
    audio = serializers.CharField(required=False, help_text="Base64 audio; not transcribed: send text.")

    def validate(self, attrs):
        if not attrs.get("text"):
            raise serializers.ValidationError(
                {"text": "Send the caller's words as text; audio transcription is not available."}
            )
        return attrs


class TelephonyAudioSerializer(SessionInputSerializer):
    session_id = serializers.UUIDField()


class TelephonyEndSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()


SessionStateSerializer = inline_serializer(
    "AssistantSessionState",
    {
        "session_id": serializers.UUIDField(),
        "channel": serializers.CharField(),
        "status": serializers.CharField(),
        "stage": serializers.CharField(),
        "language": serializers.CharField(),
        "turns": serializers.IntegerField(),
        "appointment_id": serializers.UUIDField(allow_null=True),
    },
)
SessionStartResponse = inline_serializer("SessionStartResponse", {"session_id": serializers.UUIDField()})
TurnResponse = inline_serializer(
    "SessionTurnResponse",
    {
        "reply_text": serializers.CharField(),
        "session_state": SessionStateSerializer,
        "audio": serializers.CharField(allow_null=True, help_text="No speech synthesis here: always null."),
    },
)
InboundResponse = inline_serializer(
    "TelephonyInboundResponse",
    {
        "session_id": serializers.UUIDField(),
        "reply_text": serializers.CharField(),
        "session_state": SessionStateSerializer,
        "audio": serializers.CharField(allow_null=True),
    },
)
EndResponse = inline_serializer("SessionEndResponse", {"status": serializers.CharField()})


def _turn_body(session, reply, turn) -> dict:
    return {"reply_text": reply, "session_state": sessions.session_state(session, turn), "audio": None}


def _session_or_404(session_id, channel: str) -> AssistantSession:
    pk = parse_uuid(session_id)
    session = sessions.assistant_session_get(session_id=pk) if pk else None
    if session is None or session.channel != channel:
        raise exceptions.NotFound("Session not found.")
    return session


def _input(session, data) -> Response:
    serializer = SessionInputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    session, reply, turn = sessions.assistant_session_input(session=session, text=serializer.validated_data["text"])
    return Response(_turn_body(session, reply, turn))


# --- voice session API and telephony API ---------------------------------------------------------

BUSINESS_HEADER = OpenApiParameter(
    "X-Business-ID", str, OpenApiParameter.HEADER, required=False, description="With x-service-key: the business."
)


class BusinessSessionApi(Seed002APIView):
    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, ServiceKeyAuthentication]
    permission_classes = [requires("conversations:write")]


class VoiceSessionStartApi(BusinessSessionApi):
    @extend_schema(
        operation_id="voice_session_start",
        request=SessionStartSerializer,
        responses={200: SessionStartResponse},
        parameters=[BUSINESS_HEADER],
        tags=["voice"],
    )
    def post(self, request):
        serializer = SessionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session, _greeting = sessions.assistant_session_start(
            channel=AssistantSession.Channel.VOICE,
            caller_phone=data["caller_phone"],
            metadata={"provider_call_id": data["provider_call_id"], "lead_source": data["lead_source"]},
        )
        return Response({"session_id": str(session.id)})


class VoiceSessionInputApi(BusinessSessionApi):
    @extend_schema(
        operation_id="voice_session_input",
        request=SessionInputSerializer,
        responses={200: TurnResponse},
        parameters=[BUSINESS_HEADER],
        tags=["voice"],
    )
    def post(self, request, session_id):
        return _input(_session_or_404(session_id, AssistantSession.Channel.VOICE), request.data)


class VoiceSessionEndApi(BusinessSessionApi):
    @extend_schema(
        operation_id="voice_session_end",
        request=None,
        responses={200: EndResponse},
        parameters=[BUSINESS_HEADER],
        tags=["voice"],
    )
    def post(self, request, session_id):
        session = sessions.assistant_session_end(session=_session_or_404(session_id, AssistantSession.Channel.VOICE))
        return Response({"status": f"ended:{session.id}"})


class TelephonyInboundApi(BusinessSessionApi):
    @extend_schema(
        operation_id="telephony_inbound",
        request=SessionStartSerializer,
        responses={200: InboundResponse},
        parameters=[BUSINESS_HEADER],
        tags=["telephony"],
    )
    def post(self, request):
        serializer = SessionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session, greeting = sessions.assistant_session_start(
            channel=AssistantSession.Channel.VOICE,
            caller_phone=data["caller_phone"],
            metadata={"provider_call_id": data["provider_call_id"], "lead_source": data["lead_source"]},
        )
        return Response({"session_id": str(session.id), **_turn_body(session, greeting, None)})


class TelephonyAudioApi(BusinessSessionApi):
    @extend_schema(
        operation_id="telephony_audio",
        request=TelephonyAudioSerializer,
        responses={200: TurnResponse},
        parameters=[BUSINESS_HEADER],
        tags=["telephony"],
    )
    def post(self, request):
        serializer = TelephonyAudioSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = _session_or_404(serializer.validated_data["session_id"], AssistantSession.Channel.VOICE)
        return _input(session, request.data)


class TelephonyEndApi(BusinessSessionApi):
    @extend_schema(
        operation_id="telephony_end",
        request=TelephonyEndSerializer,
        responses={200: EndResponse},
        parameters=[BUSINESS_HEADER],
        tags=["telephony"],
    )
    def post(self, request):
        serializer = TelephonyEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = _session_or_404(serializer.validated_data["session_id"], AssistantSession.Channel.VOICE)
        session = sessions.assistant_session_end(session=session)
        return Response({"status": f"ended:{session.id}"})


# --- widget -------------------------------------------------------------------------------------


class WidgetPrincipal:
    """The request.user of a widget request: a visitor on the business's web site."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    role = "widget"
    pk = id = None

    def __init__(self, credential: ApiCredential):
        self.credential = credential
        self.business_id = credential.business_id

    def has_business_permission(self, permission: str) -> bool:
        return permission == "widget:chat"

    def __str__(self):
        return f"widget:{self.credential.prefix}"


class WidgetTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        if not request.headers.get("X-Widget-Token"):
            return None
        credential = getattr(request, "nmc_credential", None)
        tenant = getattr(request, "tenant", None)
        if credential is None or credential.kind != ApiCredential.Kind.WIDGET_TOKEN:
            raise exceptions.AuthenticationFailed("The widget token is not valid.")
        if tenant is None or tenant.id != credential.business_id:
            raise exceptions.AuthenticationFailed("The widget token does not belong to this business.")
        return WidgetPrincipal(credential), credential

    def authenticate_header(self, request):
        return "X-Widget-Token"


class CanChat(BasePermission):
    """A widget token of the request's business, or one of its API keys."""

    def has_permission(self, request, view):
        user, tenant = request.user, getattr(request, "tenant", None)
        if not (user and user.is_authenticated and tenant is not None and user.business_id == tenant.id):
            return False
        return user.has_business_permission("widget:chat") or user.has_business_permission("conversations:write")


WIDGET_TOKEN_HEADER = OpenApiParameter(
    "X-Widget-Token", str, OpenApiParameter.HEADER, required=False, description="The business's widget token."
)


class WidgetStartSerializer(serializers.Serializer):
    caller_phone = serializers.CharField(max_length=40, help_text="The visitor's phone number, to confirm by SMS.")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    page_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    validate_caller_phone = SessionStartSerializer.validate_caller_phone


WidgetStartResponse = inline_serializer(
    "WidgetSessionStartResponse",
    {
        "session_id": serializers.UUIDField(),
        "reply_text": serializers.CharField(),
        "session_state": SessionStateSerializer,
    },
)


class WidgetApi(Seed002APIView):
    authentication_classes = [WidgetTokenAuthentication, ApiKeyAuthentication]
    permission_classes = [CanChat]

    def get_permissions(self):
        if self.request.method == "OPTIONS":  # The browser's CORS preflight carries no token.
            return []
        return super().get_permissions()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        return widget_cors(request, response)


def widget_cors(request, response):
    """The widget is called from the business's own site: any origin may call these endpoints with
    the public widget token, but never with cookies (no credentials are allowed cross-origin)."""
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "Content-Type, X-Widget-Token"
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


class WidgetSessionStartApi(WidgetApi):
    @extend_schema(
        operation_id="widget_session_start",
        request=WidgetStartSerializer,
        responses={200: WidgetStartResponse},
        parameters=[WIDGET_TOKEN_HEADER],
        tags=["widget"],
    )
    def post(self, request):
        serializer = WidgetStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session, greeting = sessions.assistant_session_start(
            channel=AssistantSession.Channel.WEB,
            caller_phone=data["caller_phone"],
            metadata={"name": data["name"], "page_url": data["page_url"]},
        )
        return Response(
            {"session_id": str(session.id), "reply_text": greeting, "session_state": sessions.session_state(session)}
        )


class WidgetSessionInputApi(WidgetApi):
    @extend_schema(
        operation_id="widget_session_input",
        request=SessionInputSerializer,
        responses={200: TurnResponse},
        parameters=[WIDGET_TOKEN_HEADER],
        tags=["widget"],
    )
    def post(self, request, session_id):
        return _input(_session_or_404(session_id, AssistantSession.Channel.WEB), request.data)


class WidgetSessionEndApi(WidgetApi):
    @extend_schema(
        operation_id="widget_session_end",
        request=None,
        responses={200: EndResponse},
        parameters=[WIDGET_TOKEN_HEADER],
        tags=["widget"],
    )
    def post(self, request, session_id):
        session = sessions.assistant_session_end(session=_session_or_404(session_id, AssistantSession.Channel.WEB))
        return Response({"status": f"ended:{session.id}"})
