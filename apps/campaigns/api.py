"""Seed 002's on-demand campaign runs (``/v1/reminders/*``, ``/v1/retention/*``) and the campaign
settings and run history, for the caller's business only (``X-API-Key``, ``X-Owner-Token`` or the
owner's JWT). Errors in seed 002's shape: ``{"detail": ...}``, 422 for invalid input."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.campaigns import selectors, services
from apps.campaigns.models import CampaignRun, CampaignSettings, Kind
from nevermisscall.permissions import requires
from nevermisscall.seed002 import Seed002APIView


class CampaignRunSerializer(serializers.ModelSerializer):
    run_id = serializers.UUIDField(source="id")

    class Meta:
        model = CampaignRun
        fields = [
            "run_id",
            "kind",
            "trigger",
            "started_at",
            "finished_at",
            "selected",
            "sent",
            "skipped",
            "failed",
            "skipped_reasons",
        ]


class RemindersRunSerializer(CampaignRunSerializer):
    reminders_sent = serializers.IntegerField(source="sent")

    class Meta(CampaignRunSerializer.Meta):
        fields = [*CampaignRunSerializer.Meta.fields, "reminders_sent"]


class FollowupsRunSerializer(CampaignRunSerializer):
    lead_followups_sent = serializers.IntegerField(source="sent")

    class Meta(CampaignRunSerializer.Meta):
        fields = [*CampaignRunSerializer.Meta.fields, "lead_followups_sent"]


class RetentionRunSerializer(CampaignRunSerializer):
    retention_messages_sent = serializers.IntegerField(source="sent")

    class Meta(CampaignRunSerializer.Meta):
        fields = [*CampaignRunSerializer.Meta.fields, "retention_messages_sent"]


class CampaignApi(Seed002APIView):
    permission_classes = [requires("customers:write")]


class HoursAheadQuery(serializers.Serializer):
    hours_ahead = serializers.IntegerField(
        min_value=1, max_value=168, required=False, help_text="Default: the business's reminder_hours."
    )


class SendUpcomingRemindersApi(CampaignApi):
    @extend_schema(
        operation_id="reminders_send_upcoming",
        parameters=[HoursAheadQuery],
        request=None,
        responses={200: RemindersRunSerializer},
        tags=["campaigns"],
    )
    def post(self, request):
        query = HoursAheadQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        run = services.campaign_run(
            kind=Kind.REMINDER, trigger=CampaignRun.Trigger.API, hours=query.validated_data.get("hours_ahead")
        )
        return Response(RemindersRunSerializer(run).data)


class SendFollowupsApi(CampaignApi):
    @extend_schema(
        operation_id="reminders_send_followups",
        request=None,
        responses={200: FollowupsRunSerializer},
        tags=["campaigns"],
    )
    def post(self, request):
        run = services.campaign_run(kind=Kind.FOLLOWUP, trigger=CampaignRun.Trigger.API)
        return Response(FollowupsRunSerializer(run).data)


class SendRetentionApi(CampaignApi):
    @extend_schema(
        operation_id="retention_send_retention",
        request=None,
        responses={200: RetentionRunSerializer},
        tags=["campaigns"],
    )
    def post(self, request):
        run = services.campaign_run(kind=Kind.RETENTION, trigger=CampaignRun.Trigger.API)
        return Response(RetentionRunSerializer(run).data)


class CampaignSettingsSerializer(serializers.ModelSerializer):
    followup_delay_hours = serializers.IntegerField(min_value=1, max_value=24 * 14, required=False)
    followup_max_age_days = serializers.IntegerField(min_value=1, max_value=90, required=False)
    min_days_since_last_visit = serializers.IntegerField(min_value=7, max_value=3650, required=False)
    review_delay_hours = serializers.IntegerField(min_value=0, max_value=24 * 7, required=False)
    recovery_target_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, required=False)

    class Meta:
        model = CampaignSettings
        fields = list(services.SETTINGS_FIELDS)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: ["Not a campaign setting."] for name in sorted(unknown)})
        return attrs


class CampaignSettingsApi(CampaignApi):
    @extend_schema(
        operation_id="campaigns_settings_get", responses={200: CampaignSettingsSerializer}, tags=["campaigns"]
    )
    def get(self, request):
        return Response(CampaignSettingsSerializer(selectors.campaign_settings_get()).data)

    @extend_schema(
        operation_id="campaigns_settings_update",
        request=CampaignSettingsSerializer,
        responses={200: CampaignSettingsSerializer},
        tags=["campaigns"],
    )
    def patch(self, request):
        serializer = CampaignSettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        settings = services.campaign_settings_update(data=serializer.validated_data)
        return Response(CampaignSettingsSerializer(settings).data)


class CampaignRunsQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


class CampaignRunListApi(CampaignApi):
    @extend_schema(
        operation_id="campaigns_runs_list",
        parameters=[CampaignRunsQuery],
        responses={200: CampaignRunSerializer(many=True)},
        tags=["campaigns"],
    )
    def get(self, request):
        query = CampaignRunsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = selectors.campaign_runs_recent(limit=query.validated_data["limit"])
        return Response(CampaignRunSerializer(runs, many=True).data)
