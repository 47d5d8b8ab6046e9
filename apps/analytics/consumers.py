"""``/ws/dashboard/``: the owner's live view of calls, messages and bookings.

Auth: the dashboard session cookie, ``?token=<jwt>``, or a first message
``{"type": "auth", "token": "<jwt>"}`` within ``AUTH_TIMEOUT_SECONDS``. Refused: close 4401
(no valid credential) or 4403 (no active business). The connection joins its business's group
and its user's group; every domain event arrives in seed 000's envelope.
"""

import asyncio
import uuid

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.analytics import connections
from nevermisscall.clientip import scope_client_ip
from nevermisscall.events import build_event, dashboard_group, user_group
from nevermisscall.tenancy.asgi import resolve_websocket_tenant

AUTH_TIMEOUT_SECONDS = 5
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TERMINATED = 4000


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    tenant = None
    user = None
    groups_joined: tuple = ()

    async def connect(self):
        self.connection_id = str(uuid.uuid4())
        await self.accept()
        if self.scope.get("tenant") is not None:
            await self._start(self.scope["authenticated_user"], self.scope["tenant"])
        elif self.scope.get("user") is not None and self.scope["user"].is_authenticated:
            await self.close(code=CLOSE_FORBIDDEN)  # Signed in, but with no active business.
        else:
            self._auth_deadline = asyncio.get_running_loop().call_later(
                AUTH_TIMEOUT_SECONDS, lambda: asyncio.ensure_future(self._expire_unauthenticated())
            )

    async def _expire_unauthenticated(self):
        if self.tenant is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _start(self, user, tenant):
        self.user, self.tenant = user, tenant
        self.groups_joined = (dashboard_group(tenant.schema_name), user_group(tenant.schema_name, user.pk))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await connections.connection_register(
            schema_name=tenant.schema_name,
            connection_id=self.connection_id,
            details={
                "channel_name": self.channel_name,
                "user_id": str(user.pk),
                "user_email": user.email,
                "client": scope_client_ip(self.scope),
            },
        )
        await self.send_json(
            build_event(
                "connection_established",
                {"connection_id": self.connection_id, "tenant_id": str(tenant.id), "user_id": str(user.pk)},
                source_service="connections",
            )
        )

    async def receive_json(self, content, **kwargs):
        message_type = content.get("type") if isinstance(content, dict) else None
        if self.tenant is None:
            if message_type != "auth" or not isinstance(content.get("token"), str):
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            user, tenant = await resolve_websocket_tenant(self.scope, content["token"])
            if user is None:
                await self.close(code=CLOSE_UNAUTHENTICATED)
            elif tenant is None:
                await self.close(code=CLOSE_FORBIDDEN)
            else:
                self._auth_deadline.cancel()
                await self._start(user, tenant)
            return
        if message_type == "heartbeat":
            await connections.connection_touch(schema_name=self.tenant.schema_name, connection_id=self.connection_id)
            await self.send_json(
                build_event("heartbeat", {"status": "ack"}, source_service="connections") | {"type": "heartbeat_ack"}
            )
        else:
            await self.send_json({"type": "error", "payload": {"message": f"Unknown message type {message_type!r}."}})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:  # Not JSON.
            await self.send_json({"type": "error", "payload": {"message": "Messages must be JSON."}})

    async def dashboard_event(self, message):
        await self.send_json(message["event"])

    async def connection_terminate(self, message):
        await self.close(code=CLOSE_TERMINATED)

    async def disconnect(self, code):
        deadline = getattr(self, "_auth_deadline", None)
        if deadline is not None:
            deadline.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.tenant is not None:
            await connections.connection_unregister(
                schema_name=self.tenant.schema_name, connection_id=self.connection_id
            )
