"""``/ws/ops/``: the operator page's live events (``nevermisscall.events.staff_group``: what is
published in the public schema, the system alerts). Platform staff only, refused as the log stream
refuses (4401 / 4403); it joins no business's group and a business's socket never joins this one."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.ops.logs import staff_socket_refusal
from nevermisscall.events import staff_group


class OpsLiveConsumer(AsyncJsonWebsocketConsumer):
    joined = False

    async def connect(self):
        refusal = await staff_socket_refusal(self.scope)
        if refusal is not None:
            await self.close(code=refusal)
            return
        await self.channel_layer.group_add(staff_group(), self.channel_name)
        self.joined = True
        await self.accept()

    async def dashboard_event(self, message):
        await self.send_json(message["event"])

    async def receive_json(self, content, **kwargs):
        """Heartbeats keep proxies from closing an idle socket; nothing else is read."""
        if isinstance(content, dict) and content.get("type") == "heartbeat":
            await self.send_json({"type": "heartbeat_ack"})

    async def disconnect(self, code):
        if self.joined:
            await self.channel_layer.group_discard(staff_group(), self.channel_name)
