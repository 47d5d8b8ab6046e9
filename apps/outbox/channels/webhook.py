"""Outgoing webhooks: a JSON POST to the business's endpoint, signed so the receiver can check it
came from us and refuse replays (docs/outbox.md has a receiver's code).

Headers: ``X-NeverMissCall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with
the endpoint's secret, ``X-NeverMissCall-Event`` and ``X-NeverMissCall-Delivery`` (the same on every
retry, to deduplicate). 2xx is delivered; 410 disables the endpoint; anything else is retried with
backoff (the receiver deduplicates, so a request that timed out is simply sent again)."""

import hashlib
import hmac
import json
import time

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from apps.outbox import crypto
from apps.outbox.channels import PermanentError, SendResult, TransientError
from apps.outbox.models import WebhookEndpoint

SIGNATURE_HEADER = "X-NeverMissCall-Signature"
GONE = "410"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def body_of(delivery) -> bytes:
    payload = delivery.payload
    document = {
        "id": payload["event_id"],
        "type": payload["event"],
        "business_id": str(delivery.business_id),
        "delivery_id": str(delivery.id),
        "created_at": delivery.created_at,
        "data": payload["data"],
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def send(delivery) -> SendResult:
    endpoint = WebhookEndpoint.objects.filter(
        pk=delivery.payload["endpoint_id"], business_id=delivery.business_id
    ).first()
    if endpoint is None or not endpoint.is_active:
        raise PermanentError("endpoint_disabled", "The endpoint was removed or disabled.")
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "NeverMissCall-Webhooks/1",
        SIGNATURE_HEADER: signature(crypto.decrypt(endpoint.secret_encrypted), body, int(time.time())),
        "X-NeverMissCall-Event": delivery.payload["event"],
        "X-NeverMissCall-Delivery": str(delivery.id),
    }
    try:
        response = requests.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=(settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise TransientError(f"The endpoint is unreachable: {exc.__class__.__name__}") from exc
    answer = response.text[:500]
    if 200 <= response.status_code < 300:
        return SendResult(delivered=True, provider_status=str(response.status_code), provider_answer=answer)
    if response.status_code == 410:
        raise PermanentError(GONE, "The endpoint answered 410 Gone; it is disabled.", provider_answer=answer)
    raise TransientError(
        f"The endpoint answered {response.status_code}.",
        provider_status=str(response.status_code),
        provider_answer=answer,
    )
