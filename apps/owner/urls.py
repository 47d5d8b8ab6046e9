"""Seed 002's ``/v1/owner/*`` routes."""

from django.urls import path

from apps.owner import api

urlpatterns = [
    path("v1/owner/schedule/tomorrow", api.ScheduleTomorrowApi.as_view(), name="owner-schedule-tomorrow"),
    path(
        "v1/owner/schedule/tomorrow/audio",
        api.ScheduleTomorrowAudioApi.as_view(),
        name="owner-schedule-tomorrow-audio",
    ),
    path("v1/owner/summary/today", api.SummaryTodayApi.as_view(), name="owner-summary-today"),
    path("v1/owner/summary/today/audio", api.SummaryTodayAudioApi.as_view(), name="owner-summary-today-audio"),
    path("v1/owner/workload/next", api.WorkloadNextApi.as_view(), name="owner-workload-next"),
    path("v1/owner/business", api.BusinessApi.as_view(), name="owner-business"),
    path("v1/owner/service-mix", api.ServiceMixApi.as_view(), name="owner-service-mix"),
    path("v1/owner/pipeline", api.PipelineApi.as_view(), name="owner-pipeline"),
    path("v1/owner/customers/analytics", api.CustomerAnalyticsApi.as_view(), name="owner-customer-analytics"),
    path("v1/owner/service-economics", api.ServiceEconomicsApi.as_view(), name="owner-service-economics"),
    path("v1/owner/neighborhoods", api.NeighborhoodsApi.as_view(), name="owner-neighborhoods"),
    path("v1/owner/time-to-book", api.TimeToBookApi.as_view(), name="owner-time-to-book"),
    path("v1/owner/conversion-funnel", api.ConversionFunnelApi.as_view(), name="owner-conversion-funnel"),
    path("v1/owner/data-completeness", api.DataCompletenessApi.as_view(), name="owner-data-completeness"),
    path("v1/owner/followups", api.FollowupsApi.as_view(), name="owner-followups"),
    path("v1/owner/retention", api.RetentionApi.as_view(), name="owner-retention"),
    path("v1/owner/export/service-mix.csv", api.ServiceMixCsvApi.as_view(), name="owner-export-service-mix"),
    path("v1/owner/export/conversations.csv", api.ConversationsCsvApi.as_view(), name="owner-export-conversations"),
    path("v1/owner/conversations/recent", api.ConversationsRecentApi.as_view(), name="owner-conversations-recent"),
    path("v1/owner/conversations/review", api.ConversationsReviewApi.as_view(), name="owner-conversations-review"),
    path("v1/owner/reschedules", api.ReschedulesApi.as_view(), name="owner-reschedules"),
    path("v1/owner/callbacks", api.CallbacksApi.as_view(), name="owner-callbacks"),
    path("v1/owner/sms-metrics", api.SmsMetricsApi.as_view(), name="owner-sms-metrics"),
    path("v1/owner/twilio-metrics", api.TwilioMetricsApi.as_view(), name="owner-twilio-metrics"),
]
