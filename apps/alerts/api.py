"""AS-Alerts-Service (``/api/alerts…``, a business's rules and alerts) and the infrastructure
service's ``/alerts…`` (platform staff, the system alerts of the public schema), in the envelope
(seed 000). Both families are the same views over the same tables; ``system`` picks the schema."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.alerts import selectors, services
from apps.alerts.models import Alert, AlertEvent, AlertRule, Severity
from apps.alerts.tasks import business_alerts_cycle
from apps.analytics.metrics import RULE_METRICS
from nevermisscall.api import InternalAPIView
from nevermisscall.errors import ValidationFailed
from nevermisscall.pagination import PageLimitPagination
from nevermisscall.permissions import IsBusinessMember, IsPlatformAdmin, requires

# --- serializers --------------------------------------------------------------------------------


class EscalationStepSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.RegexField(r"^\+[1-9][0-9]{6,14}$", required=False, allow_blank=True)
    delay_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60, default=0)


class RuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    metric = serializers.CharField(max_length=40)
    subject = serializers.CharField(max_length=40, required=False, allow_blank=True)
    comparison = serializers.ChoiceField(choices=AlertRule.Comparison.choices)
    threshold = serializers.FloatField()
    window_minutes = serializers.IntegerField(min_value=0, max_value=7 * 24 * 60, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=AlertRule.Channel.choices), max_length=3, required=False
    )
    escalation_policy = EscalationStepSerializer(many=True, required=False, max_length=10)
    quiet_hours_start = serializers.TimeField(required=False, allow_null=True)
    quiet_hours_end = serializers.TimeField(required=False, allow_null=True)
    active_from = serializers.TimeField(required=False, allow_null=True)
    active_until = serializers.TimeField(required=False, allow_null=True)
    is_enabled = serializers.BooleanField(required=False)


class RuleOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", *services.RULE_FIELDS, "created_at", "updated_at"]


class AlertOutputSerializer(serializers.ModelSerializer):
    rule_id = serializers.UUIDField(allow_null=True, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule_id",
            "source",
            "alert_type",
            "service",
            "severity",
            "state",
            "title",
            "message",
            "value",
            "threshold",
            "escalation_level",
            "next_notification_at",
            "snoozed_until",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "resolution",
            "created_at",
            "updated_at",
        ]


class AlertEventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertEvent
        fields = ["id", "kind", "actor", "detail", "at"]


class AlertFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Alert.State.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    type = serializers.CharField(max_length=40, required=False)
    service = serializers.CharField(max_length=40, required=False)
    rule_id = serializers.UUIDField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


STATISTICS = inline_serializer(
    "AlertStatistics",
    {
        name: serializers.IntegerField()
        for name in (
            "total",
            "active",
            "acknowledged",
            "snoozed",
            "resolved",
            "auto_resolved",
            "critical_open",
            "warning_open",
            "info_open",
            "raised_since",
        )
    }
    | {
        "mean_minutes_to_acknowledge": serializers.FloatField(allow_null=True),
        "mean_minutes_to_resolve": serializers.FloatField(allow_null=True),
        "days": serializers.IntegerField(),
    },
)


def _actor(request) -> str:
    user = request.user
    return getattr(user, "email", "") or str(user)


def _paginated(request, view, queryset, serializer_class):
    paginator = PageLimitPagination()
    page = paginator.paginate_queryset(queryset, request, view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class _AlertsView(APIView):
    """``system = True``: the platform's alerts (public schema, platform staff)."""

    system = False

    def get_permissions(self):
        if self.system:
            return [IsPlatformAdmin()]
        return [permission() for permission in self.business_permissions()]

    def business_permissions(self):
        return [IsBusinessMember]

    def dispatch(self, request, *args, **kwargs):
        if self.system:
            with schema_context(get_public_schema_name()):
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def alert_or_404(self, alert_id) -> Alert:
        alert = selectors.alert_get(alert_id=alert_id)
        if alert is None:
            raise exceptions.NotFound("No such alert.")
        return alert


class _ManageRules(_AlertsView):
    def business_permissions(self):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [IsBusinessMember]
        return [requires("alerts:manage")]


def _rule_or_404(rule_id) -> AlertRule:
    rule = selectors.alert_rule_get(rule_id=rule_id)
    if rule is None:
        raise exceptions.NotFound("No such alert rule.")
    return rule


# --- alerts -------------------------------------------------------------------------------------


class AlertListApi(_AlertsView):
    @extend_schema(
        parameters=[AlertFilterSerializer], responses={200: AlertOutputSerializer(many=True)}, tags=["alerts"]
    )
    def get(self, request, service_name=None, alert_type=None):
        filters = AlertFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        alerts = selectors.alert_list(
            state=data.get("state"),
            severity=data.get("severity"),
            alert_type=alert_type or data.get("type"),
            service=service_name or data.get("service"),
            rule_id=data.get("rule_id"),
            since=data.get("since"),
            until=data.get("until"),
            # The infrastructure list is "active alerts" (seed 000) unless a state is asked for.
            open_only=self.system and not data.get("state"),
        )
        return _paginated(request, self, alerts, AlertOutputSerializer)


class SystemAlertCreateListApi(AlertListApi):
    system = True

    class CustomAlertInputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.WARNING)
        service = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
        type = serializers.CharField(max_length=40, default="custom")

    @extend_schema(request=CustomAlertInputSerializer, responses={201: AlertOutputSerializer}, tags=["alerts"])
    def post(self, request):
        serializer = self.CustomAlertInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        alert = services.alert_custom_create(
            title=data["title"],
            message=data["message"],
            severity=data["severity"],
            service=data["service"],
            alert_type=data["type"],
            actor=_actor(request),
        )
        return Response(AlertOutputSerializer(alert).data, status=status.HTTP_201_CREATED)


class AlertActiveApi(_AlertsView):
    @extend_schema(responses={200: AlertOutputSerializer(many=True)}, tags=["alerts"])
    def get(self, request):
        alerts = selectors.alert_list(open_only=True).order_by("state", "-created_at")
        return _paginated(request, self, alerts, AlertOutputSerializer)


class AlertStatisticsApi(_AlertsView):
    class StatisticsQuerySerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=365, default=30)

    @extend_schema(
        parameters=[OpenApiParameter("days", OpenApiTypes.INT, description="1–365, default 30")],
        responses={200: STATISTICS},
        tags=["alerts"],
    )
    def get(self, request):
        query = self.StatisticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = query.validated_data["days"]
        figures = selectors.alert_statistics(since=timezone.now() - timedelta(days=days))
        return Response({**figures, "days": days})


class AlertDetailApi(_AlertsView):
    @extend_schema(responses={200: AlertOutputSerializer}, tags=["alerts"])
    def get(self, request, alert_id):
        return Response(AlertOutputSerializer(self.alert_or_404(alert_id)).data)


class AlertHistoryApi(_AlertsView):
    @extend_schema(responses={200: AlertEventOutputSerializer(many=True)}, tags=["alerts"])
    def get(self, request, alert_id):
        alert = self.alert_or_404(alert_id)
        return Response(AlertEventOutputSerializer(selectors.alert_history(alert=alert), many=True).data)


class AlertAcknowledgeApi(_AlertsView):
    @extend_schema(request=None, responses={200: AlertOutputSerializer}, tags=["alerts"])
    def post(self, request, alert_id):
        alert = services.alert_acknowledge(alert=self.alert_or_404(alert_id), actor=_actor(request))
        return Response(AlertOutputSerializer(alert).data)


class AlertSnoozeApi(_AlertsView):
    class SnoozeInputSerializer(serializers.Serializer):
        until = serializers.DateTimeField(required=False)
        minutes = serializers.IntegerField(min_value=1, max_value=7 * 24 * 60, required=False)

        def validate(self, attrs):
            if ("until" in attrs) == ("minutes" in attrs):
                raise serializers.ValidationError("Give either until or minutes.")
            return attrs

    @extend_schema(request=SnoozeInputSerializer, responses={200: AlertOutputSerializer}, tags=["alerts"])
    def post(self, request, alert_id):
        serializer = self.SnoozeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        alert = self.alert_or_404(alert_id)
        now = timezone.now()
        until = data.get("until") or now + timedelta(minutes=data["minutes"])
        alert = services.alert_snooze(alert=alert, until=until, actor=_actor(request), now=now)
        return Response(AlertOutputSerializer(alert).data)


class AlertResolveApi(_AlertsView):
    class ResolveInputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(request=ResolveInputSerializer, responses={200: AlertOutputSerializer}, tags=["alerts"])
    def post(self, request, alert_id):
        serializer = self.ResolveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.alert_resolve_manually(
            alert=self.alert_or_404(alert_id), actor=_actor(request), note=serializer.validated_data["note"]
        )
        return Response(AlertOutputSerializer(alert).data)


class AlertBulkAcknowledgeApi(_AlertsView):
    class BulkInputSerializer(serializers.Serializer):
        alert_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=200)

    @extend_schema(
        request=BulkInputSerializer,
        responses={
            200: inline_serializer(
                "BulkAcknowledged", {"acknowledged": serializers.ListField(child=serializers.UUIDField())}
            )
        },
        tags=["alerts"],
    )
    def post(self, request):
        serializer = self.BulkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = services.alerts_acknowledge_bulk(alert_ids=serializer.validated_data["alert_ids"], actor=_actor(request))
        return Response({"acknowledged": done})


class AlertTestApi(_AlertsView):
    @extend_schema(request=None, responses={201: AlertOutputSerializer}, tags=["alerts"])
    def post(self, request):
        alert = services.alert_test(actor=_actor(request))
        return Response(AlertOutputSerializer(alert).data, status=status.HTTP_201_CREATED)

    def business_permissions(self):
        return [requires("alerts:manage")]


# --- rules --------------------------------------------------------------------------------------


class RuleListCreateApi(_ManageRules):
    @extend_schema(
        parameters=[OpenApiParameter("enabled", OpenApiTypes.BOOL)],
        responses={200: RuleOutputSerializer(many=True)},
        tags=["alert-rules"],
    )
    def get(self, request):
        enabled = request.query_params.get("enabled")
        if enabled not in (None, "true", "false"):
            raise ValidationFailed("enabled is true or false.", details={"enabled": ["true or false"]})
        rules = selectors.alert_rule_list(enabled=None if enabled is None else enabled == "true")
        return _paginated(request, self, rules, RuleOutputSerializer)

    @extend_schema(request=RuleInputSerializer, responses={201: RuleOutputSerializer}, tags=["alert-rules"])
    def post(self, request):
        serializer = RuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.alert_rule_create(**serializer.validated_data)
        return Response(RuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleByMetricApi(_ManageRules):
    @extend_schema(
        parameters=[OpenApiParameter("metric", OpenApiTypes.STR, description="one metric; all when absent")],
        responses={
            200: inline_serializer(
                "RulesByMetric",
                {
                    "metric": serializers.CharField(),
                    "label": serializers.CharField(),
                    "unit": serializers.CharField(),
                    "rules": RuleOutputSerializer(many=True),
                },
                many=True,
            )
        },
        tags=["alert-rules"],
    )
    def get(self, request):
        wanted = request.query_params.get("metric")
        catalogue = {name: (str(spec.label), spec.unit) for name, spec in RULE_METRICS.items()}
        catalogue |= {name: (label, "") for name, label in services.GAUGE_METRICS.items()}
        if wanted and wanted not in catalogue:
            raise ValidationFailed(f"Unknown metric {wanted!r}.", details={"metric": sorted(catalogue)})
        rules = list(selectors.alert_rule_list(metric=wanted))
        names = [wanted] if wanted else list(catalogue)
        return Response(
            [
                {
                    "metric": name,
                    "label": catalogue[name][0],
                    "unit": catalogue[name][1],
                    "rules": RuleOutputSerializer([r for r in rules if r.metric == name], many=True).data,
                }
                for name in names
            ]
        )


class RuleDetailApi(_ManageRules):
    @extend_schema(responses={200: RuleOutputSerializer}, tags=["alert-rules"])
    def get(self, request, rule_id):
        return Response(RuleOutputSerializer(_rule_or_404(rule_id)).data)

    @extend_schema(request=RuleInputSerializer, responses={200: RuleOutputSerializer}, tags=["alert-rules"])
    def put(self, request, rule_id):
        rule = _rule_or_404(rule_id)
        serializer = RuleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        rule = services.alert_rule_update(rule=rule, data=serializer.validated_data)
        return Response(RuleOutputSerializer(rule).data)

    @extend_schema(responses={204: None}, tags=["alert-rules"])
    def delete(self, request, rule_id):
        services.alert_rule_delete(rule=_rule_or_404(rule_id), actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleStatusApi(_ManageRules):
    class StatusInputSerializer(serializers.Serializer):
        enabled = serializers.BooleanField()

    @extend_schema(request=StatusInputSerializer, responses={200: RuleOutputSerializer}, tags=["alert-rules"])
    def patch(self, request, rule_id):
        serializer = self.StatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.alert_rule_set_enabled(rule=_rule_or_404(rule_id), enabled=serializer.validated_data["enabled"])
        return Response(RuleOutputSerializer(rule).data)


# --- internal -----------------------------------------------------------------------------------

CYCLE = inline_serializer(
    "AlertCycle",
    {
        "raised": serializers.IntegerField(),
        "resolved": serializers.IntegerField(),
        "notified": serializers.IntegerField(),
    },
)


class InternalAlertsApi(InternalAPIView):
    """``/internal/alerts/evaluate|notify|check-escalations|auto-resolve|unsnooze-expired`` for the
    business named by ``X-Business-ID``: the beat's own steps, on demand."""

    step = "evaluate"

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("X-Business-ID", OpenApiTypes.UUID, OpenApiParameter.HEADER, required=True)],
        responses={200: CYCLE},
        tags=["internal"],
    )
    def post(self, request):
        if connection.schema_name == get_public_schema_name():
            raise ValidationFailed("Name the business in X-Business-ID.", details={"X-Business-ID": ["required"]})
        now = timezone.now()
        if self.step == "evaluate":
            outcome = business_alerts_cycle(now=now)
        elif self.step in ("notify", "check-escalations"):
            outcome = services.Outcome(notified=services.alerts_notify_due(now=now))
        elif self.step == "auto-resolve":
            outcome = services.rules_evaluate(now=now)
        else:
            services.alerts_unsnooze_expired(now=now)
            outcome = services.Outcome()
        return Response({"raised": outcome.raised, "resolved": outcome.resolved, "notified": outcome.notified})
