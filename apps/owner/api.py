"""Seed 002's Owner API (``/v1/owner/*``): the owner's schedule, summaries, analytics and exports.

Authenticated as the business: ``X-Owner-Token`` (the owner's JWT in its own header), the owner's
or a teammate's JWT (``Authorization: Bearer``), ``X-API-Key``, or a dashboard session; every route
needs ``analytics:read``. Seed 002's error shapes (``{"detail": …}``, 422 for bad query parameters).
Views are thin: parse the query, call one selector, answer.
"""

import csv
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.owner import briefings, selectors, services
from apps.tenants.config.services import config_get
from nevermisscall.media import media_response
from nevermisscall.negotiation import AnyAcceptNegotiation
from nevermisscall.permissions import requires
from nevermisscall.seed002 import Seed002APIView

# --- query parameters ----------------------------------------------------------------------------


class DaysQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365, default=30)


class WorkloadQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=60, default=7)


class LimitQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=20)


class DaysLimitQuery(DaysQuery, LimitQuery):
    pass


class RetentionQuery(serializers.Serializer):
    min_days = serializers.IntegerField(min_value=1, max_value=3650, default=180)


def _query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)  # 422 in seed 002's shape
    return serializer.validated_data


DAYS = OpenApiParameter("days", int, description="The window: the last N days (1-365, default 30).")
LIMIT = OpenApiParameter("limit", int, description="At most this many rows (1-200, default 20).")
JSON = {200: OpenApiTypes.OBJECT}


class OwnerApi(Seed002APIView):
    permission_classes = [requires("analytics:read")]


def _window(request, serializer_class=DaysQuery):
    data = _query(serializer_class, request)
    now = timezone.now()
    return data, now, selectors.window_start(now=now, days=data["days"])


# --- scheduling and summaries --------------------------------------------------------------------


class ScheduleTomorrowApi(OwnerApi):
    @extend_schema(operation_id="owner_schedule_tomorrow", responses=JSON, tags=["owner"])
    def get(self, request):
        return Response(briefings.schedule_tomorrow(business=request.tenant, language=config_get().language))


class SummaryTodayApi(OwnerApi):
    @extend_schema(operation_id="owner_summary_today", responses=JSON, tags=["owner"])
    def get(self, request):
        return Response(briefings.summary_today(business=request.tenant, language=config_get().language))


AUDIO = {
    (200, "audio/wav"): OpenApiResponse(OpenApiTypes.BINARY, description="espeak-ng (no OpenAI key)"),
    (200, "audio/mpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="OpenAI text-to-speech"),
    503: OpenApiTypes.OBJECT,
}


class _AudioApi(OwnerApi):
    content_negotiation_class = AnyAcceptNegotiation
    briefing = None

    def get(self, request):
        language = config_get().language
        text = type(self).briefing(business=request.tenant, language=language)["text"]
        audio = services.owner_audio_render(business=request.tenant, text=text, language=language)
        response = media_response(audio.name)
        response["X-Speech-Provider"] = audio.provider
        return response


class ScheduleTomorrowAudioApi(_AudioApi):
    briefing = staticmethod(briefings.schedule_tomorrow)

    @extend_schema(operation_id="owner_schedule_tomorrow_audio", responses=AUDIO, tags=["owner"])
    def get(self, request):
        return super().get(request)


class SummaryTodayAudioApi(_AudioApi):
    briefing = staticmethod(briefings.summary_today)

    @extend_schema(operation_id="owner_summary_today_audio", responses=AUDIO, tags=["owner"])
    def get(self, request):
        return super().get(request)


class WorkloadNextApi(OwnerApi):
    @extend_schema(
        operation_id="owner_workload_next",
        parameters=[OpenApiParameter("days", int, description="The next N days from today (1-60, default 7).")],
        responses=JSON,
        tags=["owner"],
    )
    def get(self, request):
        days = _query(WorkloadQuery, request)["days"]
        tz = request.tenant.timezone
        first = briefings.local_midnight(timezone.now(), ZoneInfo(tz)).date()
        rows = selectors.workload(first_day=first, days=days, tz=tz)
        return Response({"days": days, "timezone": tz, "workload": rows})


class BusinessApi(OwnerApi):
    @extend_schema(operation_id="owner_business", responses=JSON, tags=["owner"])
    def get(self, request):
        business = request.tenant
        config = config_get()
        return Response(
            {
                "id": str(business.id),
                "name": business.name,
                "trade": business.trade,
                "trades": list(config.trades),
                "timezone": business.timezone,
                "phone": business.phone,
                "email": business.email,
                "website": business.website,
                "status": business.status,
                "language": config.language,
                "forwarding_number": config.forwarding_number,
                "reminder_hours": config.reminder_hours,
                "business_hours": config.business_hours,
                "created_at": business.created_at,
            }
        )


# --- analytics -----------------------------------------------------------------------------------


class ServiceMixApi(OwnerApi):
    @extend_schema(operation_id="owner_service_mix", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, now, since = _window(request)
        return Response({"days": data["days"], "services": selectors.service_mix(since=since, until=now)})


class PipelineApi(OwnerApi):
    @extend_schema(operation_id="owner_pipeline", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, now, since = _window(request)
        return Response({"days": data["days"], **selectors.pipeline(since=since, now=now)})


class CustomerAnalyticsApi(OwnerApi):
    @extend_schema(operation_id="owner_customer_analytics", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, now, since = _window(request)
        return Response({"days": data["days"], **selectors.customer_analytics(since=since, now=now)})


class ServiceEconomicsApi(OwnerApi):
    @extend_schema(operation_id="owner_service_economics", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, now, since = _window(request)
        return Response({"days": data["days"], "services": selectors.service_economics(since=since, until=now)})


class NeighborhoodsApi(OwnerApi):
    @extend_schema(operation_id="owner_neighborhoods", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, now, since = _window(request)
        return Response({"days": data["days"], "neighborhoods": selectors.neighborhoods(since=since, until=now)})


class TimeToBookApi(OwnerApi):
    @extend_schema(operation_id="owner_time_to_book", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, _now, since = _window(request)
        return Response({"days": data["days"], **selectors.time_to_book(since=since)})


class ConversionFunnelApi(OwnerApi):
    @extend_schema(operation_id="owner_conversion_funnel", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, _now, since = _window(request)
        return Response({"days": data["days"], **selectors.conversion_funnel(since=since)})


class DataCompletenessApi(OwnerApi):
    @extend_schema(operation_id="owner_data_completeness", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, now, since = _window(request)
        return Response({"days": data["days"], **selectors.data_completeness(since=since, until=now)})


class FollowupsApi(OwnerApi):
    @extend_schema(operation_id="owner_followups", parameters=[DAYS, LIMIT], responses=JSON, tags=["owner"])
    def get(self, request):
        data, _now, since = _window(request, DaysLimitQuery)
        return Response({"days": data["days"], **selectors.followups(since=since, limit=data["limit"])})


class RetentionApi(OwnerApi):
    @extend_schema(
        operation_id="owner_retention",
        parameters=[OpenApiParameter("min_days", int, description="Due after this many days (default 180).")],
        responses=JSON,
        tags=["owner"],
    )
    def get(self, request):
        data = _query(RetentionQuery, request)
        return Response(selectors.retention(now=timezone.now(), min_days=data["min_days"]))


# --- exports: streamed, constant memory ---------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def _csv_chunks(tenant, rows, rows_per_chunk: int = 500):
    """CSV bytes, a few hundred rows at a time. The tenant middleware has put the connection back
    on the public schema by the time a streamed body is read: the generator sets its own."""
    connection.set_tenant(tenant)
    try:
        writer = csv.writer(_Echo())
        buffer = []
        for row in rows:
            buffer.append(writer.writerow(row))
            if len(buffer) >= rows_per_chunk:
                yield "".join(buffer).encode()
                buffer = []
        if buffer:
            yield "".join(buffer).encode()
    finally:
        connection.set_schema_to_public()


async def _async_chunks(chunks):
    """Under ASGI a synchronous iterator would be read into memory whole (Django buffers it):
    pull one chunk at a time on the request's database thread instead."""
    done = object()
    step = sync_to_async(lambda: next(chunks, done), thread_sensitive=True)
    while (chunk := await step()) is not done:
        yield chunk


def _csv_response(request, rows, filename: str) -> StreamingHttpResponse:
    chunks = _csv_chunks(request.tenant, rows)
    content = _async_chunks(chunks) if isinstance(request._request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


CSV = {(200, "text/csv"): OpenApiTypes.STR}


class ServiceMixCsvApi(OwnerApi):
    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(operation_id="owner_export_service_mix", parameters=[DAYS], responses=CSV, tags=["owner"])
    def get(self, request):
        data, now, since = _window(request)
        rows = selectors.service_mix_csv_rows(since=since, until=now)
        return _csv_response(request, rows, f"service-mix-{data['days']}d.csv")


class ConversationsCsvApi(OwnerApi):
    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(operation_id="owner_export_conversations", parameters=[DAYS], responses=CSV, tags=["owner"])
    def get(self, request):
        data, _now, since = _window(request)
        rows = selectors.conversations_csv_rows(since=since)
        return _csv_response(request, rows, f"conversations-{data['days']}d.csv")


# --- conversations and QA ------------------------------------------------------------------------


def _conversation(conversation) -> dict:
    return {
        "id": str(conversation.id),
        "customer_number": conversation.customer_number,
        "customer_name": conversation.customer_name,
        "status": conversation.status,
        "handled_by": conversation.handled_by,
        "stage": conversation.stage,
        "tags": conversation.tags,
        "job_type": conversation.lead_job_type,
        "urgency": conversation.lead_urgency,
        "outcome": conversation.lead_outcome,
        "outcome_reason": conversation.lead_outcome_reason,
        "appointment_id": str(conversation.appointment_id) if conversation.appointment_id else None,
        "needs_you_reason": conversation.needs_you_reason,
        "needs_you_at": conversation.needs_you_at,
        "message_count": conversation.message_count,
        "last_message": conversation.last_message_body or "",
        "last_message_at": conversation.last_message_at,
        "created_at": conversation.created_at,
    }


class ConversationsRecentApi(OwnerApi):
    @extend_schema(operation_id="owner_conversations_recent", parameters=[LIMIT], responses=JSON, tags=["owner"])
    def get(self, request):
        limit = _query(LimitQuery, request)["limit"]
        rows = selectors.conversations_recent(limit=limit)
        return Response({"conversations": [_conversation(row) for row in rows]})


class ConversationsReviewApi(OwnerApi):
    @extend_schema(operation_id="owner_conversations_review", parameters=[LIMIT], responses=JSON, tags=["owner"])
    def get(self, request):
        limit = _query(LimitQuery, request)["limit"]
        rows = selectors.conversations_review(limit=limit)
        return Response({"conversations": [_conversation(row) for row in rows]})


class ReschedulesApi(OwnerApi):
    @extend_schema(operation_id="owner_reschedules", parameters=[DAYS, LIMIT], responses=JSON, tags=["owner"])
    def get(self, request):
        data, _now, since = _window(request, DaysLimitQuery)
        return Response({"days": data["days"], **selectors.reschedule_requests(since=since, limit=data["limit"])})


class CallbacksApi(OwnerApi):
    @extend_schema(operation_id="owner_callbacks", parameters=[DAYS, LIMIT], responses=JSON, tags=["owner"])
    def get(self, request):
        data, _now, since = _window(request, DaysLimitQuery)
        return Response({"days": data["days"], **selectors.callbacks_due(since=since, limit=data["limit"])})


# --- metrics -------------------------------------------------------------------------------------


class SmsMetricsApi(OwnerApi):
    @extend_schema(operation_id="owner_sms_metrics", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, _now, since = _window(request)
        return Response({"days": data["days"], **selectors.sms_metrics(since=since)})


class TwilioMetricsApi(OwnerApi):
    @extend_schema(operation_id="owner_twilio_metrics", parameters=[DAYS], responses=JSON, tags=["owner"])
    def get(self, request):
        data, _now, since = _window(request)
        return Response({"days": data["days"], **selectors.twilio_metrics(since=since)})
