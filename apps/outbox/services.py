"""Writes on deliveries: queue one in the caller's transaction (the dispatcher sends it after the
commit), claim it atomically, record each attempt and its outcome, retry a dead letter, apply a
provider's status callback. Every status change tells the delivery's cause (``hooks``).
"""

import base64
import logging
import random
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from apps.outbox import crypto, policy
from apps.outbox.channels import PUSH_GONE
from apps.outbox.hooks import hooks, notify_cause
from apps.outbox.models import Channel, Delivery, DeliveryAttempt, PushSubscription, SmsConsent, WebhookEndpoint
from apps.outbox.segments import count_segments
from nevermisscall import after_commit
from nevermisscall.errors import BusinessRuleViolation, ValidationFailed
from nevermisscall.metrics import record_delivery_attempt

logger = logging.getLogger(__name__)


def _business():
    """The business whose schema is active, or None in the public schema (platform mail)."""
    tenant = getattr(connection, "tenant", None)
    return tenant if tenant is not None and getattr(tenant, "schema_name", "public") != "public" else None


def delivery_hand_off(delivery: Delivery) -> None:
    """Send ``delivery`` once the current transaction commits (for callers that insert the row in
    a statement of their own); the sweep covers a lost hand-off."""
    from apps.outbox.tasks import deliver

    schema = delivery.business.schema_name if delivery.business_id else "public"
    after_commit.enqueue(deliver, str(delivery.id), schema=schema)


def _build(
    *,
    channel: str,
    recipient: str,
    payload: dict,
    purpose: str,
    idempotency_key: str,
    kind: str = Delivery.Kind.TRANSACTIONAL,
    sender: str = "",
    language: str = "",
    cause: tuple[str, str] = ("", ""),
    expires_at: datetime | None = None,
    max_attempts: int | None = None,
    segments=None,
) -> Delivery:
    business = _business()
    now = timezone.now()
    delivery = Delivery(
        business=business,
        channel=channel,
        kind=kind,
        purpose=purpose,
        recipient=recipient,
        sender=sender,
        payload=payload,
        language=language or settings.LANGUAGE_CODE,
        cause_type=cause[0],
        cause_id=str(cause[1]),
        idempotency_key=idempotency_key,
        max_attempts=max_attempts or settings.DELIVERY_MAX_ATTEMPTS,
        next_attempt_at=now,
        created_at=now,
        expires_at=expires_at,
        segments=segments.segments if segments else None,
        encoding=segments.encoding if segments else "",
    )
    return delivery


def _queue(**fields) -> Delivery:
    delivery = _build(**fields)
    delivery.save(force_insert=True)
    delivery_hand_off(delivery)
    return delivery


def sms_body_check(body: str):
    """The segment count of ``body``; ValidationFailed when it is empty or longer than allowed."""
    if not body.strip():
        raise ValidationFailed("The text is empty.", details={"body": ["The text is empty."]})
    segments = count_segments(body)
    if segments.segments > settings.SMS_MAX_SEGMENTS:
        message = (
            f"The text is {segments.segments} SMS segments ({segments.units} {segments.encoding} characters); "
            f"the most one text may be is {settings.SMS_MAX_SEGMENTS}. Shorten it."
        )
        raise ValidationFailed(message, details={"body": [message]})
    return segments


def sms_delivery_build(
    *,
    to: str,
    body: str,
    purpose: str,
    idempotency_key: str | None = None,
    kind: str = Delivery.Kind.TRANSACTIONAL,
    sender: str = "",
    cause: tuple[str, str] = ("", ""),
    expires_at: datetime | None = None,
    max_attempts: int | None = None,
    check_opt_out: bool = True,
) -> Delivery:
    """An unsaved text from the business's number (``sender`` to override), or a domain error when
    the body is too long or the number opted out (the policy runs again at send time)."""
    segments = sms_body_check(body)
    if check_opt_out and hooks.is_opted_out(to):
        raise BusinessRuleViolation("This number replied STOP; no text can be sent to it.")
    business = _business()
    if kind == Delivery.Kind.MARKETING and not policy.has_marketing_consent(
        business_id=business.id if business else None, phone_number=to
    ):
        raise BusinessRuleViolation("No marketing consent is recorded for this number.")
    return _build(
        channel=Channel.SMS,
        recipient=to,
        payload={"body": body},
        purpose=purpose,
        idempotency_key=idempotency_key or f"sms:{uuid.uuid4()}",
        kind=kind,
        sender=sender or hooks.default_sms_sender(),
        cause=cause,
        expires_at=expires_at,
        max_attempts=max_attempts,
        segments=segments,
    )


def delivery_queue_sms(**fields) -> Delivery:
    """Queue a text in the caller's transaction (arguments of ``sms_delivery_build``)."""
    delivery = sms_delivery_build(**fields)
    delivery.save(force_insert=True)
    delivery_hand_off(delivery)
    return delivery


def delivery_queue_email(
    *,
    to: str,
    template: str,
    context: dict,
    purpose: str,
    idempotency_key: str | None = None,
    language: str = "",
    cause: tuple[str, str] = ("", ""),
) -> Delivery:
    """Queue an e-mail rendered at send time from ``templates/<template>_subject.txt``, ``.txt`` and
    ``.html`` in ``language``; ``context`` must be JSON."""
    return _queue(
        channel=Channel.EMAIL,
        recipient=to,
        payload={"template": template, "context": context},
        purpose=purpose,
        idempotency_key=idempotency_key or f"email:{uuid.uuid4()}",
        language=language,
        cause=cause,
    )


def webhook_event_emit(*, event_type: str, data: dict, event_id: str, cause: tuple[str, str] = ("", "")) -> list:
    """Queue ``event_type`` for every active endpoint of the business that wants it (once per
    endpoint and event: ``event_id`` makes the idempotency key)."""
    business = _business()
    if business is None:
        return []
    queued = []
    for endpoint in WebhookEndpoint.objects.filter(business=business, is_active=True):
        if not endpoint.wants(event_type):
            continue
        key = f"webhook:{endpoint.id}:{event_type}:{event_id}"
        try:
            with transaction.atomic():
                queued.append(
                    _queue(
                        channel=Channel.WEBHOOK,
                        recipient=endpoint.url,
                        payload={
                            "endpoint_id": str(endpoint.id),
                            "event": event_type,
                            "event_id": event_id,
                            "data": data,
                        },
                        purpose="webhook_event",
                        idempotency_key=key,
                        cause=cause,
                    )
                )
        except IntegrityError:  # Emitted before: once is enough.
            continue
    return queued


# --- the dispatcher's writes ------------------------------------------------------------------------


_CLAIM_SQL = """
    UPDATE {table} SET status = 'sending', claimed_at = %s
    WHERE id = %s AND ((status = 'queued' AND next_attempt_at <= %s) OR (status = 'sending' AND claimed_at < %s))
    RETURNING *
"""


# A text claimed in its business's schema (the task that queued it sends it) brings the send-time
# policy's reads with it (``policy.sms_send_state_columns`` over the claimed row): one round trip less.
_OURS = "claimed.business_id = %s AND claimed.channel = %s"
_CLAIM_WITH_SEND_STATE_SQL = (
    "WITH claimed AS ({claim}) SELECT claimed.*, {ours} AS send_state_read, {columns} FROM claimed"
)


def delivery_claim(*, delivery_id, now: datetime) -> Delivery | None:
    """Claim a due delivery (or one whose worker died mid-send) with one conditional UPDATE that
    returns the row; None when another worker has it, it is not due yet, or it is done. In a
    business's schema, a text of that business comes with its send state (``delivery.send_state``;
    None otherwise, and the policy reads it itself)."""
    stale = now - timedelta(seconds=settings.DELIVERY_SENDING_STALE_SECONDS)
    sql = _CLAIM_SQL.format(table=connection.ops.quote_name(Delivery._meta.db_table))
    params = [now, delivery_id, now, stale]
    tenant = getattr(connection, "tenant", None)
    in_business = getattr(tenant, "schema_name", get_public_schema_name()) != get_public_schema_name()
    if in_business:
        ours = [tenant.pk, Channel.SMS]
        columns = policy.sms_send_state_columns(business=tenant, recipient=RawSQL("claimed.recipient", []), now=now)
        sql = _CLAIM_WITH_SEND_STATE_SQL.format(
            claim=sql,
            ours=_OURS,
            columns=", ".join(
                f"CASE WHEN {_OURS} THEN {column} END AS send_state_{index}"
                for index, (column, _) in enumerate(columns)
            ),
        )
        params += ours + [param for _, column_params in columns for param in (*ours, *column_params)]
    delivery = next(iter(Delivery.objects.raw(sql, params)), None)
    if delivery is None:
        return None
    delivery.send_state = None
    if in_business and delivery.send_state_read:
        delivery.send_state = policy.send_state_of_row(
            delivery.send_state_0, delivery.send_state_1, delivery.send_state_2
        )
    if delivery.business_id is not None and getattr(tenant, "pk", None) == delivery.business_id:
        delivery.business = tenant  # The worker runs in the delivery's business (the task's schema header).
    return delivery


_UPDATE_SQL = """
    WITH changed AS (
        UPDATE {table} SET {assignments} WHERE id = %(delivery_id)s AND status = %(delivery_previous)s RETURNING id
    ){also}
    SELECT count(*) FROM changed
"""


def _update(delivery: Delivery, *, previous: str, **fields) -> bool:
    """Apply ``fields`` if the row's status is still ``previous``: one statement, which also carries
    what ``hooks.settled_sql`` adds for a new status (the business's delivery metrics)."""
    now = timezone.now()
    fields["updated_at"] = now
    params = {"delivery_id": delivery.pk, "delivery_previous": previous}
    assignments = []
    for name, value in fields.items():
        field = Delivery._meta.get_field(name)
        params[f"set_{name}"] = field.get_db_prep_save(value, connection)
        assignments.append(f"{connection.ops.quote_name(field.column)} = %(set_{name})s")
    also = ""
    status = fields.get("status", previous)
    extra = hooks.settled_sql(delivery, status, now, after="changed", previous=previous) if status != previous else None
    if extra is not None:
        also = f",{extra[0]}"
        params |= extra[1]
    sql = _UPDATE_SQL.format(
        table=connection.ops.quote_name(Delivery._meta.db_table), assignments=", ".join(assignments), also=also
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (changed,) = cursor.fetchone()
    if not changed:
        return False
    for name, value in fields.items():
        setattr(delivery, name, value)
    return True


def _change(delivery: Delivery, **fields) -> bool:
    """Apply ``fields`` if the row is still ``sending`` (ours), and tell its cause."""
    if not _update(delivery, previous=Delivery.Status.SENDING, **fields):
        return False
    notify_cause(delivery, Delivery.Status.SENDING)
    return True


_ATTEMPT_SQL = """
    WITH counted AS (UPDATE {deliveries} SET attempts = attempts + 1 WHERE id = %s RETURNING attempts)
    INSERT INTO {attempts} (delivery_id, number, started_at, duration_ms, outcome, provider_status, provider_answer, error)
    SELECT %s, attempts, %s, %s, %s, %s, %s, %s FROM counted
    RETURNING number
"""


def attempt_record(
    *,
    delivery: Delivery,
    started_at: datetime,
    outcome: str,
    provider_status="",
    provider_answer="",
    error="",
    ended_at: datetime | None = None,
) -> int:
    """Store one attempt and count it on the delivery, in one statement; returns its number."""
    sql = _ATTEMPT_SQL.format(
        deliveries=connection.ops.quote_name(Delivery._meta.db_table),
        attempts=connection.ops.quote_name(DeliveryAttempt._meta.db_table),
    )
    elapsed = max(0, int(((ended_at or timezone.now()) - started_at).total_seconds() * 1000))
    params = [delivery.pk, delivery.pk, started_at, elapsed, outcome]
    params += [str(provider_status)[:20], str(provider_answer)[:2000], str(error)[:500]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (delivery.attempts,) = cursor.fetchone()
    record_delivery_attempt(channel=delivery.channel, outcome=outcome, seconds=elapsed / 1000)
    return delivery.attempts


@transaction.atomic
def delivery_mark_sent(*, delivery: Delivery, result, started_at: datetime, now: datetime) -> bool:
    """The provider accepted (or delivered): store the attempt and settle the row, one commit."""
    attempt_record(
        delivery=delivery,
        started_at=started_at,
        outcome=DeliveryAttempt.Outcome.DELIVERED if result.delivered else DeliveryAttempt.Outcome.SENT,
        provider_status=result.provider_status,
        provider_answer=result.provider_answer,
        ended_at=now,
    )
    return _change(
        delivery,
        status=Delivery.Status.DELIVERED if result.delivered else Delivery.Status.SENT,
        provider_ref=result.provider_ref or None,
        sent_at=now,
        delivered_at=now if result.delivered else None,
        hold_reason="",
        last_error="",
        last_error_code="",
    )


def backoff_seconds(attempts: int) -> float:
    """Between runs (each makes up to ``DELIVERY_ATTEMPTS_PER_RUN`` quick attempts): exponential from
    ``DELIVERY_BACKOFF_BASE_SECONDS`` per failed run, capped, with jitter (half to all of it)."""
    failed_runs = max(1, -(-attempts // settings.DELIVERY_ATTEMPTS_PER_RUN))
    exponent = min(failed_runs - 1, 20)
    ceiling = min(settings.DELIVERY_BACKOFF_MAX_SECONDS, settings.DELIVERY_BACKOFF_BASE_SECONDS * 2**exponent)
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)


@transaction.atomic
def delivery_retry_later(*, delivery: Delivery, error: str, now: datetime, code: str = "") -> str:
    """A transient failure: back off, or dead-letter the row after its last attempt."""
    if delivery.attempts >= delivery.max_attempts:
        _change(
            delivery,
            status=Delivery.Status.DEAD,
            last_error=error[:500],
            last_error_code=code or "max_attempts",
            hold_reason="",
        )
        logger.error("delivery %s dead after %d attempts: %s", delivery.id, delivery.attempts, error)
        return "dead"
    _change(
        delivery,
        status=Delivery.Status.QUEUED,
        next_attempt_at=now + timedelta(seconds=backoff_seconds(delivery.attempts)),
        last_error=error[:500],
        last_error_code=code,
        hold_reason="",
    )
    return "retry"


@transaction.atomic
def delivery_hold(*, delivery: Delivery, until: datetime, reason: str, hold: str) -> None:
    """Back to the queue until ``until`` without an attempt (quiet hours, quota, open circuit)."""
    _change(
        delivery,
        status=Delivery.Status.QUEUED,
        next_attempt_at=until,
        hold_reason=hold,
        last_error=reason[:500],
    )


# ``last_error_code`` of a delivery whose last request got no answer (the provider may have it).
UNCONFIRMED = "unconfirmed"


@transaction.atomic
def delivery_hold_unconfirmed(*, delivery: Delivery, error: str, now: datetime) -> None:
    """Keep the claim after a request whose outcome is unknown: the status callback settles it, or
    the claim goes stale (``DELIVERY_SENDING_STALE_SECONDS``) and the provider is asked whether it
    has the message before it is sent again (``dispatcher``)."""
    _change(
        delivery,
        claimed_at=now,
        last_error=f"{UNCONFIRMED}: {error}"[:500],
        last_error_code=UNCONFIRMED,
    )


@transaction.atomic
def delivery_fail(*, delivery: Delivery, code: str, error: str, status: str = Delivery.Status.FAILED) -> None:
    _change(
        delivery,
        status=status,
        last_error=error[:500],
        last_error_code=code[:40],
        hold_reason="",
    )
    if delivery.channel == Channel.SMS and code == "21610":
        hooks.record_opt_out(delivery.recipient)
    if delivery.channel == Channel.PUSH and code == PUSH_GONE:
        PushSubscription.objects.filter(pk=delivery.payload.get("subscription_id")).delete()
    if delivery.channel == Channel.WEBHOOK and code == "410":
        WebhookEndpoint.objects.filter(pk=delivery.payload.get("endpoint_id"), is_active=True).update(
            is_active=False, disabled_at=timezone.now(), disabled_reason="The endpoint answered 410 Gone."
        )


@transaction.atomic
def delivery_retry(*, delivery: Delivery) -> Delivery:
    """Send a failed or dead delivery again (owner, operator): same row, same idempotency key, a
    fresh allowance of attempts."""
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if not locked.is_retryable:
        raise BusinessRuleViolation(f"Only failed or dead deliveries can be retried; this one is {locked.status}.")
    previous = locked.status
    now = timezone.now()
    locked.status = Delivery.Status.QUEUED
    locked.next_attempt_at = now
    locked.max_attempts = locked.attempts + settings.DELIVERY_MAX_ATTEMPTS
    locked.hold_reason = ""
    locked.save(update_fields=["status", "next_attempt_at", "max_attempts", "hold_reason", "updated_at"])
    notify_cause(locked, previous)
    delivery_hand_off(locked)
    return locked


# --- provider status callbacks ----------------------------------------------------------------------

# Twilio's message statuses in order; a callback never moves a delivery backwards.
TWILIO_STATUS = {
    "accepted": None,
    "scheduled": None,
    "queued": None,
    "sending": None,
    "sent": Delivery.Status.SENT,
    "delivered": Delivery.Status.DELIVERED,
    "read": Delivery.Status.DELIVERED,
    "undelivered": Delivery.Status.FAILED,
    "failed": Delivery.Status.FAILED,
    "canceled": Delivery.Status.CANCELED,
}
FINAL = {Delivery.Status.DELIVERED, Delivery.Status.FAILED, Delivery.Status.DEAD, Delivery.Status.CANCELED}


@transaction.atomic
def delivery_status_update(
    *, delivery_id=None, provider_ref: str = "", provider_status: str, error_code: str = ""
) -> bool:
    """Apply a provider's status callback for a delivery of the current business; False when it
    changes nothing (unknown, stale, repeated, or another business's)."""
    if provider_status not in TWILIO_STATUS:
        return False
    status = TWILIO_STATUS[provider_status]
    queryset = Delivery.objects.select_for_update().filter(business=_business(), channel=Channel.SMS)
    delivery = queryset.filter(pk=delivery_id).first() if delivery_id else None
    if delivery is None and provider_ref:
        delivery = queryset.filter(provider_ref=provider_ref).first()
    if delivery is None or status is None or delivery.status in FINAL:
        return False
    if status == delivery.status:
        return False
    previous, now = delivery.status, timezone.now()
    fields = {"status": status, "provider_status": provider_status}
    if provider_ref and not delivery.provider_ref:
        fields["provider_ref"] = provider_ref
    if delivery.sent_at is None:
        fields["sent_at"] = now  # Its send's answer was lost (an uncertain attempt): the callback tells.
    if status == Delivery.Status.DELIVERED:
        fields["delivered_at"] = now
    if error_code:
        fields["last_error_code"] = error_code[:40]
        fields["last_error"] = f"provider reported {provider_status} ({error_code})"
    _update(delivery, previous=previous, **fields)  # The row is locked: it matches.
    if error_code == "21610":
        hooks.record_opt_out(delivery.recipient)
    notify_cause(delivery, previous)
    return True


def deliveries_cancel_for(*, recipient: str) -> int:
    """Cancel what still waits for ``recipient`` in the current business (it opted out)."""
    waiting = Delivery.objects.filter(
        business=_business(), channel=Channel.SMS, recipient=recipient, status=Delivery.Status.QUEUED
    )
    canceled = 0
    for delivery in waiting.select_for_update(skip_locked=True):
        previous = delivery.status
        delivery.status, delivery.last_error, delivery.hold_reason = Delivery.Status.CANCELED, "opted out", ""
        delivery.save(update_fields=["status", "last_error", "hold_reason", "updated_at"])
        notify_cause(delivery, previous)
        canceled += 1
    return canceled


# --- webhook endpoints ------------------------------------------------------------------------------


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _check_url(url: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise ValidationFailed("The URL must start with https://.", details={"url": ["Use an https:// URL."]})
    if settings.IS_PRODUCTION and not url.startswith("https://"):
        raise ValidationFailed("Webhook URLs must use https.", details={"url": ["Use an https:// URL."]})


@transaction.atomic
def webhook_endpoint_create(*, business, url: str, description: str = "", event_types=(), user=None):
    """Returns the endpoint and its signing secret, which is shown this once and stored encrypted."""
    _check_url(url)
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        business=business,
        url=url,
        description=description,
        event_types=list(event_types),
        secret_encrypted=crypto.encrypt(secret),
        secret_prefix=secret[:12],
        created_by=user,
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: dict) -> WebhookEndpoint:
    if "url" in data:
        _check_url(data["url"])
    for name in ("url", "description", "event_types"):
        if name in data:
            setattr(endpoint, name, data[name])
    if "is_active" in data and data["is_active"] != endpoint.is_active:
        endpoint.is_active = data["is_active"]
        endpoint.disabled_at = None if endpoint.is_active else timezone.now()
        endpoint.disabled_reason = "" if endpoint.is_active else "Disabled by the business."
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new secret at once; the old one stops signing (shown once, like the first)."""
    secret = _new_secret()
    endpoint.secret_encrypted, endpoint.secret_prefix = crypto.encrypt(secret), secret[:12]
    endpoint.save(update_fields=["secret_encrypted", "secret_prefix", "updated_at"])
    return secret


def webhook_endpoint_test(*, endpoint: WebhookEndpoint) -> Delivery:
    """A ``webhook.test`` event to this endpoint only, signed like every other."""
    event_id = f"test:{uuid.uuid4()}"
    return _queue(
        channel=Channel.WEBHOOK,
        recipient=endpoint.url,
        payload={"endpoint_id": str(endpoint.id), "event": "webhook.test", "event_id": event_id, "data": {}},
        purpose="webhook_test",
        idempotency_key=f"webhook:{endpoint.id}:{event_id}",
    )


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def webhook_secrets_reencrypt() -> int:
    """Re-encrypt every stored secret under the newest ``OUTBOX_ENCRYPTION_KEYS`` key."""
    count = 0
    for endpoint in WebhookEndpoint.objects.select_for_update().iterator():
        endpoint.secret_encrypted = crypto.reencrypt(endpoint.secret_encrypted)
        endpoint.save(update_fields=["secret_encrypted"])
        count += 1
    return count


# --- consent ----------------------------------------------------------------------------------------


def sms_consent_record(*, phone_number: str, source: str, evidence: str = "") -> SmsConsent:
    """Record (or renew) a number's consent to the current business's marketing texts."""
    consent, _ = SmsConsent.objects.update_or_create(
        business=_business(),
        phone_number=phone_number,
        defaults={"source": source, "evidence": evidence, "granted_at": timezone.now(), "revoked_at": None},
    )
    return consent


def sms_consent_revoke(*, phone_number: str) -> int:
    return SmsConsent.objects.filter(business=_business(), phone_number=phone_number, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


# --- Web Push ---------------------------------------------------------------------------------------


def _base64url_bytes(value: str, *, field: str, length: int) -> None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != length:
        raise ValidationFailed(
            "This is not a browser's push subscription.", details={field: [f"Expected {length} base64url bytes."]}
        )


@transaction.atomic
def push_subscription_save(*, business, user, endpoint: str, p256dh: str, auth: str, user_agent: str = ""):
    """Store (or move to this person) the subscription a browser's ``pushManager.subscribe`` gave."""
    if not endpoint.startswith("https://") and (settings.IS_PRODUCTION or not endpoint.startswith("http://")):
        raise ValidationFailed("A push endpoint is an https:// URL.", details={"endpoint": ["Use an https:// URL."]})
    if len(endpoint) > 1000:
        raise ValidationFailed("The push endpoint is too long.", details={"endpoint": ["At most 1,000 characters."]})
    _base64url_bytes(p256dh, field="keys.p256dh", length=65)
    _base64url_bytes(auth, field="keys.auth", length=16)
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"business": business, "user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
    )
    return subscription


def push_subscription_delete(*, user, endpoint: str) -> int:
    return PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0]


def push_queue_for_users(
    *, user_ids, title: str, body: str, url: str, tag: str, event_key: str, cause: tuple[str, str] = ("", "")
) -> list[Delivery]:
    """A push to every subscribed browser of these people of the current business, in the caller's
    transaction; ``event_key`` makes it once per browser and event. ``tag`` collapses repeats on
    the device (a retried push replaces the first instead of showing twice)."""
    business = _business()
    subscriptions = PushSubscription.objects.filter(business=business, user_id__in=list(user_ids)).order_by("pk")
    deliveries = []
    for subscription in subscriptions:
        try:
            with transaction.atomic():  # A savepoint: the same event twice is one push per browser.
                delivery = _queue(
                    channel=Channel.PUSH,
                    recipient=subscription.endpoint[:500],
                    payload={
                        "subscription_id": str(subscription.pk),
                        "title": title,
                        "body": body,
                        "url": url,
                        "tag": tag,
                    },
                    purpose="owner_push",
                    idempotency_key=f"push:{subscription.pk}:{event_key}",
                    cause=cause,
                    expires_at=timezone.now() + timedelta(seconds=settings.WEB_PUSH_TTL_SECONDS),
                )
        except IntegrityError:
            continue
        deliveries.append(delivery)
    return deliveries
