"""Web Push (RFC 8030) to a person's browser: the payload encrypted to the browser's keys
(aes128gcm, RFC 8291) and signed with the deployment's VAPID key (RFC 8292), by pywebpush.

The push service's taxonomy: 201 accepted; 404 and 410 the subscription is gone (it is
forgotten); other 4xx refuse this message for good; 429 and 5xx, refused connections and
timeouts are worth repeating. A push repeated after a timeout is harmless: it carries the same
``tag``, so the device replaces the first notification instead of showing a second."""

import json

import requests
from django.conf import settings
from django.utils import timezone
from pywebpush import WebPushException, webpush

from apps.outbox.channels import PUSH_GONE, PermanentError, SendResult, TransientError
from apps.outbox.models import PushSubscription
from nevermisscall import webpush as vapid_keys


def send(delivery) -> SendResult:
    if not vapid_keys.enabled():
        raise PermanentError("push_disabled", "Web Push is not configured (WEB_PUSH_VAPID_PRIVATE_KEY).")
    subscription = PushSubscription.objects.filter(
        pk=delivery.payload["subscription_id"], business_id=delivery.business_id
    ).first()
    if subscription is None:
        raise PermanentError(PUSH_GONE, "The browser unsubscribed.")
    payload = delivery.payload
    data = {key: payload.get(key, "") for key in ("title", "body", "url", "tag")}
    try:
        response = webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(data),
            vapid_private_key=vapid_keys.vapid(),
            vapid_claims={"sub": settings.WEB_PUSH_CONTACT},
            ttl=settings.WEB_PUSH_TTL_SECONDS,
            timeout=settings.WEB_PUSH_TIMEOUT,
            headers={"Urgency": "high", "Topic": str(payload.get("tag", ""))[:32]}
            if payload.get("tag")
            else {"Urgency": "high"},
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        answer = exc.response.text[:500] if exc.response is not None else str(exc)[:500]
        if status in (404, 410):
            raise PermanentError(
                PUSH_GONE, "The push service says this browser is gone.", provider_answer=answer
            ) from exc
        if status is not None and 400 <= status < 500 and status != 429:
            raise PermanentError(
                str(status), f"The push service refused it ({status}).", provider_answer=answer
            ) from exc
        raise TransientError(
            f"The push service answered {status}.", provider_status=str(status or ""), provider_answer=answer
        ) from exc
    except requests.RequestException as exc:
        raise TransientError(f"The push service is unreachable: {exc.__class__.__name__}") from exc
    PushSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=timezone.now())
    return SendResult(provider_status=str(response.status_code), provider_answer=response.text[:500])
