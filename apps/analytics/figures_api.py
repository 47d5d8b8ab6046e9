"""AS-Analytics-Core-Service (seed 000: ``/api/dashboard``, ``/api/kpis``, ``/api/metrics``,
``/api/tenants/{id}/metrics``, in the envelope) and Bella's unified dashboard (seed 001:
``/api/unified/…``, plain JSON, seed 001's error shape). Thin views over apps/analytics/usage.py and
selectors.py; every figure is the current business's."""

import csv
import io
import json
import math
import re
import uuid
import zoneinfo
from datetime import timedelta

import redis
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.alerts import selectors as alert_selectors
from apps.alerts import services as alert_services
from apps.alerts.models import Severity
from apps.analytics import kpis, selectors, usage
from apps.analytics.custom_metrics import CUSTOM_PREFIX, custom_metric_key, custom_metric_record, custom_metric_units
from apps.analytics.metrics import METRIC_RAW_KEEP_DAYS, METRICS
from apps.analytics.report_pdf import report_pdf
from apps.crm.models import Appointment
from apps.ops import history as ops_history
from nevermisscall import health
from nevermisscall.breakers import stored_states
from nevermisscall.metrics import request_summary
from nevermisscall.negotiation import AnyAcceptNegotiation
from nevermisscall.permissions import requires
from nevermisscall.seed001 import Seed001APIView

CanReadAnalytics = requires("analytics:read")
CanWriteAnalytics = requires("analytics:write")
CanManageAlerts = requires("alerts:manage")


def _actor(request) -> str:
    return getattr(request.user, "email", "") or str(request.user)


def _period_start(request, period: str):
    now = timezone.now()
    if period == "today":
        return selectors.day_bounds(day=selectors.business_today(request.tenant), business=request.tenant)[0]
    return now - timedelta(days=selectors.PERIODS[period])


class PeriodQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=sorted(selectors.PERIODS), default="today")


# --- seed 000 ---------------------------------------------------------------------------------------


class DashboardApi(APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(parameters=[PeriodQuerySerializer], responses={200: OpenApiTypes.OBJECT}, tags=["analytics"])
    def get(self, request):
        """The money figure first (missed calls recovered, jobs booked from them, their value this
        month), then the period's calls (four queries): today's from the calls (the overview's
        figures, an unfinished call not yet answered), 7 and 30 days' counts from the hour rollups;
        recovered and booked from rows."""
        query = PeriodQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        first, last, start, end = selectors.period_bounds(business=request.tenant, period=period)
        kpis = selectors.overview_kpis(business=request.tenant, start=start, end=end, rollups=period != "today")
        money = selectors.money_recovered(business=request.tenant)
        return Response(
            {
                "money_recovered": {
                    "missed_calls_recovered": kpis["recovered"],
                    "jobs_booked": money["jobs"],
                    "estimated_value": str(money["revenue"]),
                    "month": money["month"],
                },
                "period": period,
                "date_from": first,
                "date_to": last,
                "calls": kpis["calls"],
                "answered": kpis["answered"],
                "missed": kpis["missed"],
                "recovered": kpis["recovered"],
                "recovery_rate": round(kpis["recovered"] / kpis["missed"], 4) if kpis["missed"] else None,
                "booked": kpis["booked"],
                "revenue": str(kpis["revenue"]),
            }
        )


class KpiQuerySerializer(PeriodQuerySerializer):
    snapshot_period = serializers.ChoiceField(choices=sorted(selectors.PERIODS), required=False)
    snapshot_since = serializers.DateTimeField(required=False, help_text="Stored snapshots calculated from")
    snapshot_until = serializers.DateTimeField(required=False, help_text="…and before")

    def validate(self, attrs):
        since, until = attrs.get("snapshot_since"), attrs.get("snapshot_until")
        if since and until and since >= until:
            raise serializers.ValidationError({"snapshot_since": "snapshot_since must be before snapshot_until."})
        return attrs


class KpiApi(APIView):
    def get_permissions(self):
        return [CanWriteAnalytics() if self.request.method == "POST" else CanReadAnalytics()]

    @extend_schema(parameters=[KpiQuerySerializer], responses={200: OpenApiTypes.OBJECT}, tags=["analytics"])
    def get(self, request):
        """A KPI snapshot of the period from the metric rollups (one query), with its cost, and the
        stored snapshots (``POST /api/kpis``, newest first, at most 100) in ``snapshots``."""
        query = KpiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        since = _period_start(request, params["period"])
        figures = usage.usage_read(since=since)
        snapshots = kpis.kpi_snapshots_list(
            since=params.get("snapshot_since"), until=params.get("snapshot_until"), period=params.get("snapshot_period")
        )
        return Response(
            {"period": params["period"], "since": since, "calculated_at": timezone.now()}
            | usage.kpi_snapshot(figures)
            | {"snapshots": [kpis.kpi_snapshot_body(snapshot) for snapshot in snapshots]}
        )

    @extend_schema(request=PeriodQuerySerializer, responses={201: OpenApiTypes.OBJECT}, tags=["analytics"])
    def post(self, request):
        """Compute the period's KPIs now (the figures GET returns) and store them as a snapshot."""
        body = PeriodQuerySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        period = body.validated_data["period"]
        snapshot = kpis.kpi_snapshot_create(period=period, since=_period_start(request, period), now=timezone.now())
        return Response(kpis.kpi_snapshot_body(snapshot), status=201)


def _period_figures(request, read) -> Response:
    query = PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    since = _period_start(request, query.validated_data["period"])
    return Response(
        {"period": query.validated_data["period"], "since": since, "calculated_at": timezone.now()} | read(since=since)
    )


class CallAnalyticsApi(APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(parameters=[PeriodQuerySerializer], responses={200: OpenApiTypes.OBJECT}, tags=["analytics"])
    def get(self, request):
        """The period's calls: answered, missed, rates (rollups), why calls were missed, talk time
        and missed calls recovered by a text back (one aggregate over the calls). Two queries."""
        return _period_figures(request, usage.call_analytics)


class ConversationAnalyticsApi(APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(parameters=[PeriodQuerySerializer], responses={200: OpenApiTypes.OBJECT}, tags=["analytics"])
    def get(self, request):
        """The period's conversations (started, resolved, taken over, booked: one aggregate) and
        their texts, assistant turns, tokens, latency and lead waits (rollups). Two queries."""
        return _period_figures(request, usage.conversation_analytics)


class ReportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "pdf"], default="csv")
    period = serializers.ChoiceField(choices=sorted(selectors.PERIODS), default="7d")
    group_by = serializers.ChoiceField(choices=["hour", "day"], default="day")


def _report_table(rows: list[dict], *, by: str, tz) -> list[list]:
    """The report's table, the header first: one row per hour or local day of the rollups."""
    columns = [name for name, _metric, _field in usage.REPORT_COLUMNS]
    table = [[by, *columns, "cost"]]
    for row in rows:
        period = row["period"].astimezone(tz)
        label = period.date().isoformat() if by == "day" else period.isoformat()
        table.append([label, *(row[name] for name in columns), row["cost"]])
    return table


def _report_days(request, *, since, tz, daily: list[dict]) -> list[dict]:
    """The PDF's chart series: every local day of the period (empty ones included) with its calls,
    missed calls and bookings (hour rollups) and missed calls recovered (the calls' rows)."""
    by_day = {row["period"].astimezone(tz).date(): row for row in daily}
    first, last = since.astimezone(tz).date(), selectors.business_today(request.tenant)
    recovered = selectors.recovered_by_day(start=since, end=timezone.now(), tz=tz)
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        days.append(
            {
                "label": day.strftime("%m-%d"),
                "calls": row.get("calls", 0),
                "missed": row.get("calls_missed", 0),
                "recovered": recovered.get(day, 0),
                "booked": row.get("bookings", 0),
                "revenue": row.get("booking_value", 0.0),
            }
        )
    return days


class ReportApi(APIView):
    permission_classes = [CanReadAnalytics]
    content_negotiation_class = AnyAcceptNegotiation  # an ``Accept: text/csv`` must not turn into a 406

    @extend_schema(
        request=ReportSerializer,
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/pdf"): OpenApiTypes.BINARY},
        tags=["analytics"],
    )
    def post(self, request):
        """The period's figures, one row per day (the business's zone) or hour: calls, texts,
        assistant turns, bookings, value and cost, from the hour rollups (one query). As CSV, or
        as a PDF with charts per day (calls, missed, recovered, booked, value) above the same table."""
        body = ReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = body.validated_data
        tz = zoneinfo.ZoneInfo(request.tenant.timezone)
        since = _period_start(request, params["period"])
        now = timezone.now()
        rows = usage.report_rows(since=since, until=now, by=params["group_by"], tz=tz)
        table = _report_table(rows, by=params["group_by"], tz=tz)
        name = f"report-{params['period']}-{params['group_by']}"
        if params["format"] == "pdf":
            daily = rows if params["group_by"] == "day" else usage.report_rows(since=since, until=now, by="day", tz=tz)
            content = report_pdf(
                title=_("%(business)s: calls and bookings") % {"business": request.tenant.name},
                subtitle=_("From %(since)s to %(until)s (%(zone)s)")
                % {
                    "since": since.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    "until": now.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    "zone": tz.key,
                },
                days=_report_days(request, since=since, tz=tz, daily=daily),
                table=[[str(cell) for cell in row] for row in table],
            )
            response = HttpResponse(content, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        else:
            out = io.StringIO()
            csv.writer(out).writerows(table)
            response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response


class MetricsQuerySerializer(serializers.Serializer):
    metric = serializers.CharField(
        required=False, help_text="A computed metric, or custom.<name> for one the business records"
    )
    grain = serializers.ChoiceField(choices=[5, 60], default=60)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate_metric(self, value):
        if value in METRICS or (value.startswith(CUSTOM_PREFIX) and CUSTOM_NAME.fullmatch(value[len(CUSTOM_PREFIX) :])):
            return value
        raise serializers.ValidationError(f"Unknown metric; one of {', '.join(sorted(METRICS))} or custom.<name>.")

    def validate(self, attrs):
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - timedelta(hours=24)
        if since >= until:
            raise serializers.ValidationError({"since": "since must be before until."})
        days = 93 if int(attrs["grain"]) == 60 else 7
        if until - since > timedelta(days=days):
            raise serializers.ValidationError({"since": f"At most {days} days at a time at this grain."})
        return attrs | {"since": since, "until": until}


CUSTOM_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class MetricPointSerializer(serializers.Serializer):
    name = serializers.RegexField(
        rf"\A{CUSTOM_NAME.pattern}\Z", help_text="Lower case, digits and _ (stored as custom.<name>)"
    )
    value = serializers.FloatField()
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    tags = serializers.DictField(child=serializers.CharField(max_length=100), required=False, default=dict)
    timestamp = serializers.DateTimeField(required=False, help_text="Default now; at most 7 days old")
    idempotency_key = serializers.CharField(max_length=100, required=False)

    def validate_value(self, value):
        if not math.isfinite(value):
            raise serializers.ValidationError("A finite number.")
        return value

    def validate_tags(self, value):
        if len(value) > 10 or any(not CUSTOM_NAME.fullmatch(key) for key in value):
            raise serializers.ValidationError("At most 10 tags, each key lower case, digits and _.")
        return value

    def validate_timestamp(self, value):
        now = timezone.now()
        if value > now + timedelta(minutes=5) or value < now - timedelta(days=METRIC_RAW_KEEP_DAYS):
            raise serializers.ValidationError(f"Within the last {METRIC_RAW_KEEP_DAYS} days, not in the future.")
        return value


def _point_body(point) -> dict:
    return {
        "id": point.id,
        "metric": custom_metric_key(point.metric.name),
        "name": point.metric.name,
        "value": point.value,
        "unit": point.metric.unit,
        "tags": point.tags,
        "timestamp": point.at,
        "idempotency_key": point.idempotency_key,
    }


def _metric_rows(request) -> Response:
    query = MetricsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    units = custom_metric_units()
    metrics = [params["metric"]] if params.get("metric") else [*METRICS, *units]
    rows = usage.rollup_rows(metrics=metrics, since=params["since"], until=params["until"], grain=int(params["grain"]))
    return Response(
        {
            "tenant_id": str(request.tenant.id),
            "grain_minutes": int(params["grain"]),
            "since": params["since"],
            "until": params["until"],
            "metrics": rows,
            "custom_units": units,
        }
    )


class MetricListApi(APIView):
    def get_permissions(self):
        return [CanWriteAnalytics() if self.request.method == "POST" else CanReadAnalytics()]

    @extend_schema(parameters=[MetricsQuerySerializer], responses={200: OpenApiTypes.OBJECT}, tags=["analytics"])
    def get(self, request):
        """The rollup buckets (n events, total of values, peak) of one or every stored metric, the
        business's own (``custom.<name>``, their units in ``custom_units``) included."""
        return _metric_rows(request)

    @extend_schema(
        request=MetricPointSerializer,
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
        tags=["analytics"],
    )
    def post(self, request):
        """Record one point of the business's own metric; a repeat with the same
        ``idempotency_key`` answers 200 with the first point and records nothing."""
        body = MetricPointSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = body.validated_data
        point, created = custom_metric_record(
            name=params["name"],
            value=params["value"],
            unit=params["unit"],
            tags=params["tags"],
            at=params.get("timestamp") or timezone.now(),
            idempotency_key=params.get("idempotency_key"),
        )
        return Response(_point_body(point), status=201 if created else 200)


class TenantMetricListApi(APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(parameters=[MetricsQuerySerializer], responses={200: OpenApiTypes.OBJECT}, tags=["analytics"])
    def get(self, request, tenant_id):
        if tenant_id != request.tenant.id:
            raise exceptions.NotFound()
        return _metric_rows(request)


# --- seed 001: /api/unified ---------------------------------------------------------------------------


def _breaker_summary(states: dict[str, str]) -> str:
    values = set(states.values())
    return "error" if "open" in values else "warning" if "half-open" in values or "half_open" in values else "healthy"


def _redis_ok() -> bool:
    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _last_hour():
    return usage.usage_read(since=timezone.now() - timedelta(hours=1))


class UnifiedStatusApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        states = stored_states()
        kpis = usage.kpi_snapshot(_last_hour())
        rates = [kpis["sms_failure_rate"]] + [channel["failure_rate"] for channel in kpis["deliveries"].values()]
        failure, fallback = max(rate or 0 for rate in rates), kpis["ai_fallback_rate"] or 0
        performance = (
            "error" if failure > 0.2 or fallback > 0.5 else "warning" if failure > 0.05 or fallback > 0.1 else "healthy"
        )
        breakers = _breaker_summary(states)
        redis_ok = _redis_ok()
        system = (
            "error"
            if breakers == "error" or not redis_ok
            else "warning"
            if "warning" in (breakers, performance)
            else "healthy"
        )
        return Response(
            {
                "system": system,
                "performance": performance,
                "redis": "healthy" if redis_ok else "warning",
                "circuit_breakers": breakers,
                "openai_service": states.get("openai", "closed").replace("-", "_"),
                "cost_aws_connected": False,
                "timestamp": timezone.now(),
            }
        )


class UnifiedOperationsApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        start, end = selectors.day_bounds(day=selectors.business_today(request.tenant), business=request.tenant)
        live = Appointment.objects.exclude(status=Appointment.Status.CANCELLED)
        recent = live.select_related("customer").order_by("-created_at", "-id")[:10]
        return Response(
            {
                "total_users": User.objects.filter(business=request.tenant, is_active=True).count(),
                "total_appts": live.count(),
                "today_appts": live.filter(start__gte=start, start__lt=end).count(),
                "recent_appointments": [
                    {
                        "id": str(a.id),
                        "starts_at": a.start,
                        "duration_min": int((a.end - a.start).total_seconds() // 60),
                        "status": a.status,
                        "full_name": a.customer.name,
                        "mobile": a.customer.phone,
                    }
                    for a in recent
                ],
            }
        )


def _month_figures(request):
    start = selectors.day_bounds(day=selectors.business_today(request.tenant).replace(day=1), business=request.tenant)[
        0
    ]
    return start, usage.usage_read(since=start)


class UnifiedAnalyticsApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        _start, figures = _month_figures(request)
        cost = usage.usage_cost(figures)
        savings = sum(r["savings"] for r in usage.recommendations(figures))
        return Response(
            {
                "aws_available": False,
                "monthly_costs": {"sms": cost["sms"], "openai": cost["openai"], "voice": cost["voice"]},
                "total_monthly": cost["total"],
                "optimization_potential": round(savings / cost["total"], 4) if cost["total"] else 0.0,
            }
        )


class UnifiedBusinessMetricsApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        """The last 24 hours: calls answered (completed) and missed (failed), the assistant's turns."""
        figures = usage.usage_read(since=timezone.now() - timedelta(hours=24))
        kpis = usage.kpi_snapshot(figures)
        fallback = kpis["ai_fallback_rate"]
        latency = kpis["ai_latency_avg_ms"]
        return Response(
            {
                "total_calls": kpis["calls"],
                "completed_calls": kpis["calls_answered"],
                "failed_calls": kpis["calls_missed"],
                "success_rate": kpis["answer_rate"],
                "avg_response_time": round(latency / 1000, 3) if latency is not None else None,
                "completion_rate": kpis["answer_rate"],
                "speech_recognition_accuracy": None,
                "ai_extraction_success_rate": round(1 - fallback, 4) if fallback is not None else None,
                "fallback_usage_rate": fallback,
                "model_turn_share": usage.model_share(figures),
                "cost_per_call": round(kpis["cost"]["total"] / kpis["calls"], 4) if kpis["calls"] else None,
                "whisper_api_calls": 0,
                "calculated_at": timezone.now(),
            }
        )


class TrendsQuerySerializer(serializers.Serializer):
    hours = serializers.IntegerField(min_value=1, max_value=24 * 31, default=24)


class UnifiedTrendsApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(parameters=[TrendsQuerySerializer], responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        query = TrendsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hours = query.validated_data["hours"]
        return Response({"trends": usage.hourly_trends(now=timezone.now(), hours=hours), "period_hours": hours})


# Seed 001's severities onto ours (critical, warning, info): its high and medium are our warning.
SEED001_SEVERITIES = {
    "critical": Severity.CRITICAL,
    "high": Severity.WARNING,
    "medium": Severity.WARNING,
    "low": Severity.INFO,
}
SEED001_SEVERITY_CHOICES = list(SEED001_SEVERITIES)


class UnifiedAlertInputSerializer(serializers.Serializer):
    component = serializers.RegexField(r"\A[A-Za-z0-9_.-]{1,40}\Z", help_text="What the alert is about")
    severity = serializers.ChoiceField(choices=SEED001_SEVERITY_CHOICES, help_text="high and medium: our warning")
    message = serializers.CharField(max_length=2000)
    details = serializers.DictField(required=False, default=dict, help_text="Kept on the alert's history")

    def validate_details(self, value):
        if len(json.dumps(value, default=str)) > 4000:
            raise serializers.ValidationError("At most 4,000 characters of details.")
        return value


class UnifiedAlertsApi(Seed001APIView):
    def get_permissions(self):
        return [CanManageAlerts() if self.request.method == "POST" else CanReadAnalytics()]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        now = timezone.now()
        sla = usage.sla_metrics(now=now)
        return Response(
            {
                "alert_summary": usage.alert_summary(now=now),
                "sla_status": sla,
                "overall_health": sla["overall_health_score"],
            }
        )

    @extend_schema(
        request=UnifiedAlertInputSerializer,
        responses={
            200: inline_serializer(
                "UnifiedAlertCreated", {"alert_id": serializers.CharField(), "status": serializers.CharField()}
            ),
        },
        tags=["unified"],
    )
    def post(self, request):
        """A manual alert in the business's alerts (apps/alerts): shown live, notified like any."""
        body = UnifiedAlertInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        alert = alert_services.alert_custom_create(
            title=f"{data['component']}: {data['message']}"[:200],
            message=data["message"],
            severity=SEED001_SEVERITIES[data["severity"]],
            service=data["component"],
            alert_type="manual",
            actor=_actor(request),
            details=data["details"],
        )
        return Response({"alert_id": str(alert.id), "status": "created"})


class UnifiedAlertResolveInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class UnifiedAlertResolveApi(Seed001APIView):
    permission_classes = [CanManageAlerts]

    @extend_schema(
        request=UnifiedAlertResolveInputSerializer,
        responses={
            200: inline_serializer(
                "UnifiedAlertResolved", {"status": serializers.CharField(), "alert_id": serializers.CharField()}
            ),
        },
        tags=["unified"],
    )
    def patch(self, request, alert_id):
        """Resolve one of the business's open alerts by hand (``/api/alerts/{id}/resolve``'s service);
        resolved already → 409; another business's or an unknown id → 404."""
        body = UnifiedAlertResolveInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alert = alert_selectors.alert_get(alert_id=uuid.UUID(alert_id))
        except ValueError:
            alert = None
        if alert is None:
            raise exceptions.NotFound("No such alert.")
        alert_services.alert_resolve_manually(alert=alert, actor=_actor(request), note=body.validated_data["note"])
        return Response({"status": "resolved", "alert_id": str(alert.id)})


def _deployment_uptime() -> dict | None:
    """The deployment's measured uptime (every business shares it): of each health check, the share
    of its stored results (apps/ops/history.py, one Redis round trip) that were healthy; None when
    Redis cannot be read."""
    try:
        return ops_history.uptimes(health.CHECKS)
    except redis.RedisError:
        return None


class UnifiedSlaMetricsApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        """The business's success rates per 5 minutes against their targets (last 24 h), and the
        deployment's measured uptime per component."""
        now = timezone.now()
        summary = usage.alert_summary(now=now)
        return Response(
            usage.sla_metrics(now=now)
            | {
                "deployment_uptime": _deployment_uptime(),
                "active_alerts": summary["active_alerts"]["total"],
                "critical_alerts": summary["active_alerts"]["critical"],
                "generated_at": now,
            }
        )


def _redis_cache_stats() -> dict:
    """The deployment's Redis keyspace hits and misses since it started (INFO stats)."""
    try:
        info = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5).info("stats")
    except redis.RedisError:
        return {"hit_rate": None, "total_hits": None, "total_misses": None}
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    return {"hit_rate": usage._ratio(hits, hits + misses), "total_hits": hits, "total_misses": misses}


class UnifiedSystemApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        """The deployment, measured: this process's request counters (every business: there is no
        per-business request figure), Redis keyspace hits/misses, the database, Redis and queue
        checks of nevermisscall/health.py, and the circuit breakers."""
        overall, checks = health.run_checks(["database", "redis", "queues"])
        requests = request_summary()
        errors = requests["by_status"].get("5xx", 0)
        states = stored_states()
        breakers = _breaker_summary(states)
        status = health.UNHEALTHY if overall == health.UNHEALTHY else overall
        if status == health.HEALTHY and breakers != "healthy":
            status = health.DEGRADED
        return Response(
            {
                "performance": {
                    "avg_response_time": round(requests["average_latency_ms"] / 1000, 4) if requests["total"] else None,
                    "total_requests": requests["total"],
                    "error_rate": usage._ratio(errors, requests["total"]),
                },
                "cache": _redis_cache_stats(),
                "checks": {
                    name: {
                        "status": result.status,
                        "message": result.message,
                        "response_time_ms": result.response_time_ms,
                    }
                    for name, result in checks.items()
                },
                "queues": checks["queues"].details.get("queues"),
                "circuit_breakers": {name: state.replace("-", "_") for name, state in states.items()},
                "status": status,
                "timestamp": timezone.now(),
            }
        )


class UnifiedCircuitBreakersApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        """Every breaker's shared state (Redis); request counts where the business's rollups measure
        them (OpenAI: assistant turns and fallbacks; Twilio SMS: texts sent and failed; SMTP, outgoing
        webhooks, Web Push: the outbox's deliveries sent and failed; last 24 h)."""
        states = stored_states()
        figures = usage.usage_read(since=timezone.now() - timedelta(hours=24))
        measured = {
            "openai": (figures["ai_turns"].n, figures["ai_fallbacks"].n),
            "sms": (figures["sms_sent"].n + figures["sms_failed"].n, figures["sms_failed"].n),
        } | {
            breaker: (figures[f"{channel}_sent"].n + figures[f"{channel}_failed"].n, figures[f"{channel}_failed"].n)
            for channel, breaker in usage.CHANNEL_BREAKERS.items()
        }
        body = {}
        for name in sorted(set(states) | set(measured)):
            total, failed = measured.get(name, (None, None))
            body[name] = {
                "name": name,
                "state": states.get(name, "closed").replace("-", "_"),
                "total_requests": total,
                "successful_requests": None if total is None else total - failed,
                "failed_requests": failed,
                "success_rate": None if not total else round((total - failed) / total, 4),
            }
        return Response(body)


class UnifiedCostOptimizationApi(Seed001APIView):
    permission_classes = [CanReadAnalytics]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["unified"])
    def get(self, request):
        now = timezone.now()
        days = 30
        figures = usage.usage_read(since=now - timedelta(days=days))
        cost = usage.usage_cost(figures)
        found = usage.recommendations(figures)
        savings = sum(r["savings"] for r in found)
        total = cost["total"]

        def share(part):
            return round(100 * part / total, 1) if total else 0.0

        return Response(
            {
                "cost_summary": {
                    "current_period": {
                        "sms_cost": cost["sms"],
                        "openai_cost": cost["openai"],
                        "voice_cost": cost["voice"],
                        "total_cost": total,
                        "period_days": days,
                    },
                    "recent_trends": {
                        "total_cost_last_30d": total,
                        "avg_daily_cost": round(total / days, 4),
                        "projected_monthly": round(total / days * 30, 4),
                    },
                    "cost_per_service": {
                        "sms_percentage": share(cost["sms"]),
                        "openai_percentage": share(cost["openai"]),
                        "voice_percentage": share(cost["voice"]),
                    },
                    "prices": {
                        "sms_segment": settings.USAGE_PRICE_SMS_SEGMENT,
                        "ai_1k_tokens": settings.USAGE_PRICE_AI_1K_TOKENS,
                        "call": settings.USAGE_PRICE_CALL,
                    },
                },
                "usage_patterns": usage.usage_patterns(now=now),
                "model_turn_share": usage.model_share(figures),
                "recommendations": found,
                "alerts": [],
                "optimization_score": round(100 * (1 - savings / total)) if total else 100,
                "generated_at": now,
            }
        )
