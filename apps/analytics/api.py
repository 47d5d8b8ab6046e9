"""AS-Connection-Service (seed 000): live dashboard connections, broadcast, termination."""

from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django_tenants.utils import schema_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import User
from apps.accounts.tokens import token_pair_for
from apps.analytics import connections
from apps.tenants.selectors import business_get
from nevermisscall.api import InternalAPIView
from nevermisscall.events import EVENT_TYPES, publish_event
from nevermisscall.permissions import IsBusinessMember, requires

WS_PATH = "/ws/dashboard/"
WS_TOKEN_SECONDS = 60


class ConnectionRecordSerializer(serializers.Serializer):
    """A live connection as the registry reports it."""

    connection_id = serializers.CharField()
    user_id = serializers.CharField()
    user_email = serializers.CharField()
    client = serializers.CharField()
    connected_at = serializers.FloatField()
    last_heartbeat = serializers.FloatField()


def _public(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "channel_name"}


def _ws_url() -> str:
    base = settings.PUBLIC_BASE_URL
    return ("wss://" if base.startswith("https://") else "ws://") + base.split("://", 1)[1] + WS_PATH


class ConnectionEstablishApi(APIView):
    permission_classes = [IsBusinessMember]

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "WebsocketTicket",
                {
                    "url": serializers.CharField(),
                    "token": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                    "auth_message": serializers.DictField(),
                },
            )
        },
        tags=["connections"],
    )
    def post(self, request):
        """A short-lived token to open ``/ws/dashboard/`` with (sent as the first message, not in the URL)."""
        if not isinstance(request.user, User):
            raise exceptions.PermissionDenied("Live connections are for signed-in people.")
        token = AccessToken(token_pair_for(request.user)["access_token"])
        token.set_exp(lifetime=timedelta(seconds=WS_TOKEN_SECONDS))
        return Response(
            {
                "url": _ws_url(),
                "token": str(token),
                "expires_in": WS_TOKEN_SECONDS,
                "auth_message": {"type": "auth", "token": str(token)},
            },
            status=status.HTTP_201_CREATED,
        )


class ConnectionStatusApi(APIView):
    permission_classes = [IsBusinessMember]

    @extend_schema(
        responses={
            200: inline_serializer(
                "ConnectionStatus",
                {
                    "active_connections": serializers.IntegerField(),
                    "connections": ConnectionRecordSerializer(many=True),
                },
            )
        },
        tags=["connections"],
    )
    def get(self, request):
        records = connections.connection_list(schema_name=request.tenant.schema_name)
        return Response({"active_connections": len(records), "connections": [_public(r) for r in records]})


class BroadcastInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(EVENT_TYPES - {"connection_established", "heartbeat"}))
    payload = serializers.DictField(default=dict)
    user_id = serializers.UUIDField(required=False)


def _broadcast(*, schema_name: str, data: dict) -> dict:
    with schema_context(schema_name):
        return publish_event(
            data["type"],
            data["payload"],
            source_service="connections",
            schema_name=schema_name,
            user_id=data.get("user_id"),
        )


class BroadcastApi(APIView):
    permission_classes = [requires("users:manage")]

    @extend_schema(request=BroadcastInputSerializer, responses={202: OpenApiTypes.OBJECT}, tags=["connections"])
    def post(self, request):
        serializer = BroadcastInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_id = serializer.validated_data.get("user_id")
        if user_id and not User.objects.filter(pk=user_id, business=request.tenant).exists():
            raise exceptions.NotFound()
        event = _broadcast(schema_name=request.tenant.schema_name, data=serializer.validated_data)
        return Response({"event": event, "recipients": "user" if user_id else "business"}, status=202)


class ConnectionDetailApi(APIView):
    permission_classes = [requires("users:manage")]

    @extend_schema(responses={200: ConnectionRecordSerializer}, tags=["connections"])
    def delete(self, request, connection_id):
        schema = request.tenant.schema_name
        record = connections.connection_get(schema_name=schema, connection_id=connection_id)
        if record is None:
            raise exceptions.NotFound()
        async_to_sync(get_channel_layer().send)(record["channel_name"], {"type": "connection.terminate"})
        async_to_sync(connections.connection_unregister)(schema_name=schema, connection_id=connection_id)
        return Response(_public(record))


class InternalPublishInputSerializer(BroadcastInputSerializer):
    tenant_id = serializers.UUIDField()


class InternalEventPublishApi(InternalAPIView):
    @extend_schema(request=InternalPublishInputSerializer, responses={202: OpenApiTypes.OBJECT}, tags=["internal"])
    def post(self, request):
        serializer = InternalPublishInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        business = business_get(business_id=serializer.validated_data["tenant_id"])
        if business is None:
            raise exceptions.NotFound()
        event = _broadcast(schema_name=business.schema_name, data=serializer.validated_data)
        return Response({"event": event}, status=202)


class InternalConnectionStatsApi(InternalAPIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["internal"])
    def get(self, request):
        return Response(connections.connection_stats())


class InternalConnectionCleanupApi(InternalAPIView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT}, tags=["internal"])
    def post(self, request):
        return Response({"removed": connections.connection_cleanup()})
