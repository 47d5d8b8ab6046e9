"""Seed 002's admin API (``/v1/admin/*``): the platform operator's side.

Authenticated by ``X-Admin-API-Key`` (settings.ADMIN_API_KEY) or a platform staff member's JWT
(a staff user with no business). Every business user is refused (403), a wrong or missing key 401.
Errors keep seed 002's shape (``{"detail": ...}``, 422 for validation). Every action is audited.
"""

import csv
import hmac
import io
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.accounts.authentication import TenantJWTAuthentication
from apps.accounts.models import User
from apps.tenants import operator, services
from apps.tenants.models import AdminAuditEntry, ApiCredential, Business
from apps.tenants.selectors import business_get
from apps.tenants.serializers import TimezoneAndPhoneValidation
from apps.tenants.usage import CSV_COLUMNS, usage_for
from nevermisscall.choices import Trade
from nevermisscall.seed002 import Seed002APIView


class AdminKeyPrincipal:
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = True
    is_superuser = False
    pk = id = business_id = None
    email = ""
    role = "platform_admin"

    def __str__(self):
        return "admin-api-key"


class AdminKeyAuthentication(BaseAuthentication):
    """``X-Admin-API-Key``: a wrong key is refused outright, never passed on to other schemes."""

    def authenticate(self, request):
        provided = request.headers.get("X-Admin-API-Key")
        if provided is None:
            return None
        if not hmac.compare_digest(provided.strip().encode(), settings.ADMIN_API_KEY.encode()):
            raise exceptions.AuthenticationFailed("The admin API key is not valid.")
        return AdminKeyPrincipal(), None

    def authenticate_header(self, request):
        return "X-Admin-API-Key"


class IsPlatformOperator(BasePermission):
    message = "Platform administrators only."

    def has_permission(self, request, view):
        user = request.user
        if isinstance(user, AdminKeyPrincipal):
            return True
        return bool(
            isinstance(user, User)
            and user.is_authenticated
            and user.is_active
            and user.is_staff
            and not user.business_id
        )


class AdminAPIView(Seed002APIView):
    authentication_classes = [AdminKeyAuthentication, TenantJWTAuthentication]
    permission_classes = [IsPlatformOperator]

    def actor(self) -> operator.Actor:
        return operator.Actor.from_request(self.request)


def _business_or_404(business_id) -> Business:
    business = business_get(business_id=business_id)
    if business is None:
        raise exceptions.NotFound("No such business.")
    return business


class AdminBusinessSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    schema_name = serializers.CharField()
    trade = serializers.CharField()
    timezone = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    website = serializers.CharField()
    status = serializers.CharField()
    is_demo = serializers.BooleanField()
    in_maintenance = serializers.BooleanField()
    migration_error = serializers.CharField()
    schema_version = serializers.CharField()
    suspended_at = serializers.DateTimeField(allow_null=True)
    deletion_requested_at = serializers.DateTimeField(allow_null=True)
    deletion_due_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class AdminBusinessCreateSerializer(TimezoneAndPhoneValidation, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    owner_email = serializers.EmailField()
    owner_name = serializers.CharField(max_length=200)
    owner_password = serializers.CharField(max_length=128, write_only=True)
    trade = serializers.ChoiceField(choices=Trade.choices, default=Trade.PLUMBING)
    timezone = serializers.CharField(max_length=64, default="America/New_York")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    is_demo = serializers.BooleanField(default=False)

    def validate_name(self, value):
        if not value.strip():
            raise serializers.ValidationError("The business name cannot be blank.")
        return value.strip()


class AdminBusinessUpdateSerializer(TimezoneAndPhoneValidation, serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    trade = serializers.ChoiceField(choices=Trade.choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    website = serializers.URLField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Business.Status.choices, required=False)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        if not attrs:
            raise serializers.ValidationError("Nothing to update.")
        return attrs


class BusinessListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Business.Status.choices, required=False)
    trade = serializers.ChoiceField(choices=Trade.choices, required=False)
    is_demo = serializers.BooleanField(required=False, allow_null=True, default=None)
    in_maintenance = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, max_length=100)
    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)


def _query(serializer_class, request):
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _filtered_businesses(filters: dict):
    queryset = Business.objects.exclude(schema_name="public")
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("trade"):
        queryset = queryset.filter(trade=filters["trade"])
    if filters.get("is_demo") is not None:
        queryset = queryset.filter(is_demo=filters["is_demo"])
    if filters.get("in_maintenance") is not None:
        queryset = queryset.filter(migration_failed_at__isnull=not filters["in_maintenance"])
    if filters.get("q"):
        term = filters["q"]
        queryset = queryset.filter(Q(name__icontains=term) | Q(slug__icontains=term) | Q(email__icontains=term))
    return queryset.order_by("created_at", "id")


def _page(queryset, filters):
    page, limit = filters["page"], filters["limit"]
    total = queryset.count()
    return list(queryset[(page - 1) * limit : page * limit]), {"total": total, "page": page, "limit": limit}


BusinessPage = inline_serializer(
    "AdminBusinessPage",
    {
        "items": AdminBusinessSerializer(many=True),
        "total": serializers.IntegerField(),
        "page": serializers.IntegerField(),
        "limit": serializers.IntegerField(),
    },
)
CreatedBusiness = inline_serializer(
    "AdminBusinessCreated",
    {
        "business": AdminBusinessSerializer(),
        "owner_id": serializers.IntegerField(),
        "api_key": serializers.CharField(),
        "widget_token": serializers.CharField(),
    },
)


@extend_schema(tags=["admin"])
class AdminBusinessesApi(AdminAPIView):
    @extend_schema(
        operation_id="v1_admin_businesses_list", parameters=[BusinessListQuery], responses={200: BusinessPage}
    )
    def get(self, request):
        filters = _query(BusinessListQuery, request)
        items, meta = _page(_filtered_businesses(filters), filters)
        return Response({"items": AdminBusinessSerializer(items, many=True).data, **meta})

    @extend_schema(request=AdminBusinessCreateSerializer, responses={201: CreatedBusiness})
    def post(self, request):
        serializer = AdminBusinessCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        business, owner = services.business_register(
            business_name=data["name"],
            owner_email=data["owner_email"],
            owner_password=data["owner_password"],
            owner_name=data["owner_name"],
            trade=data["trade"],
            timezone_name=data["timezone"],
            phone=data["phone"],
            is_demo=data["is_demo"],
        )
        actor = self.actor()
        _key, api_key, _ = operator.business_credential_rotate(
            business=business, kind=ApiCredential.Kind.API_KEY, actor=actor
        )
        _token, widget_token, _ = operator.business_credential_rotate(
            business=business, kind=ApiCredential.Kind.WIDGET_TOKEN, actor=actor
        )
        operator.audit_record(actor=actor, action="business.create", business=business, details={"owner": owner.email})
        payload = {
            "business": AdminBusinessSerializer(business).data,
            "owner_id": owner.pk,
            "api_key": api_key,
            "widget_token": widget_token,
        }
        return Response(payload, status=status.HTTP_201_CREATED)


@extend_schema(tags=["admin"])
class AdminBusinessDetailApi(AdminAPIView):
    @extend_schema(responses={200: AdminBusinessSerializer})
    def get(self, request, business_id):
        return Response(AdminBusinessSerializer(_business_or_404(business_id)).data)

    @extend_schema(request=AdminBusinessUpdateSerializer, responses={200: AdminBusinessSerializer})
    def patch(self, request, business_id):
        business = _business_or_404(business_id)
        serializer = AdminBusinessUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        actor = self.actor()
        if data:
            business = services.business_update(business=business, data=data)
            operator.audit_record(actor=actor, action="business.update", business=business, details={"fields": data})
        if new_status == Business.Status.SUSPENDED:
            business = operator.business_suspend(business=business, actor=actor)
        elif new_status == Business.Status.ACTIVE:
            business = operator.business_reactivate(business=business, actor=actor)
        return Response(AdminBusinessSerializer(business).data)

    @extend_schema(
        responses={200: OpenApiResponse(description="Deleted (after the grace period)"), 409: OpenApiTypes.OBJECT}
    )
    def delete(self, request, business_id):
        """Step two of a deletion: refused (409) until a deletion was requested and its grace period ended."""
        summary = operator.business_delete(business=_business_or_404(business_id), actor=self.actor())
        return Response({"deleted": summary})


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


@extend_schema(tags=["admin"])
class AdminBusinessSuspendApi(AdminAPIView):
    @extend_schema(request=ReasonSerializer, responses={200: AdminBusinessSerializer})
    def post(self, request, business_id):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        business = operator.business_suspend(
            business=_business_or_404(business_id), actor=self.actor(), reason=serializer.validated_data["reason"]
        )
        return Response(AdminBusinessSerializer(business).data)


@extend_schema(tags=["admin"])
class AdminBusinessReactivateApi(AdminAPIView):
    @extend_schema(request=None, responses={200: AdminBusinessSerializer})
    def post(self, request, business_id):
        business = operator.business_reactivate(business=_business_or_404(business_id), actor=self.actor())
        return Response(AdminBusinessSerializer(business).data)


Rotated = inline_serializer(
    "AdminRotated",
    {
        "business_id": serializers.UUIDField(),
        "secret": serializers.CharField(),
        "prefix": serializers.CharField(),
        "revoked": serializers.IntegerField(),
    },
)


class _RotateApi(AdminAPIView):
    kind = ""
    field = ""

    def post(self, request, business_id):
        business = _business_or_404(business_id)
        credential, secret, revoked = operator.business_credential_rotate(
            business=business, kind=self.kind, actor=self.actor()
        )
        payload = {"business_id": str(business.pk), self.field: secret, "prefix": credential.prefix, "revoked": revoked}
        return Response(payload)


@extend_schema(tags=["admin"], request=None, responses={200: Rotated})
class AdminRotateKeyApi(_RotateApi):
    kind, field = ApiCredential.Kind.API_KEY, "api_key"

    def post(self, request, business_id):
        return super().post(request, business_id)


@extend_schema(tags=["admin"], request=None, responses={200: Rotated})
class AdminRotateWidgetTokenApi(_RotateApi):
    kind, field = ApiCredential.Kind.WIDGET_TOKEN, "widget_token"

    def post(self, request, business_id):
        return super().post(request, business_id)


@extend_schema(tags=["admin"])
class AdminBusinessDeletionApi(AdminAPIView):
    """Step one of a deletion: export the data to a file, suspend, start the grace period."""

    @extend_schema(request=None, responses={202: AdminBusinessSerializer})
    def post(self, request, business_id):
        business = operator.business_deletion_request(business=_business_or_404(business_id), actor=self.actor())
        return Response(AdminBusinessSerializer(business).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: AdminBusinessSerializer})
    def delete(self, request, business_id):
        """Cancel a scheduled deletion (the business stays suspended until reactivated)."""
        business = operator.business_deletion_cancel(business=_business_or_404(business_id), actor=self.actor())
        return Response(AdminBusinessSerializer(business).data)


class UsageQuery(serializers.Serializer):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    days = serializers.IntegerField(min_value=1, max_value=366, required=False)
    business_id = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=Business.Status.choices, required=False)
    is_demo = serializers.BooleanField(required=False, allow_null=True, default=None)
    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=100)

    def validate(self, attrs):
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - timedelta(days=attrs.get("days") or 30)
        if since >= until:
            raise serializers.ValidationError({"since": ["since must be before until."]})
        attrs["since"], attrs["until"] = since, until
        return attrs


def _usage(request):
    query = _query(UsageQuery, request)
    businesses = _filtered_businesses(query)
    if query.get("business_id"):
        businesses = businesses.filter(pk=query["business_id"])
    items, meta = _page(businesses, query)
    rows = usage_for(businesses=items, since=query["since"], until=query["until"])
    return query, rows, meta


class UsageRowSerializer(serializers.Serializer):
    business_id = serializers.UUIDField()
    business_name = serializers.CharField()
    calls = serializers.IntegerField()
    missed_calls = serializers.IntegerField()
    texts_in = serializers.IntegerField()
    texts_out = serializers.IntegerField()
    sms_segments = serializers.IntegerField()
    ai_tokens = serializers.IntegerField()
    ai_cost_usd = serializers.FloatField()
    bookings = serializers.IntegerField()
    emergencies = serializers.IntegerField()
    service_mix = serializers.DictField(child=serializers.IntegerField())
    estimated_cost_usd = serializers.FloatField()


@extend_schema(tags=["admin"], parameters=[UsageQuery])
class AdminUsageApi(AdminAPIView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "AdminUsage",
                {
                    "since": serializers.DateTimeField(),
                    "until": serializers.DateTimeField(),
                    "prices": serializers.DictField(child=serializers.FloatField()),
                    "items": UsageRowSerializer(many=True),
                    "total": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "limit": serializers.IntegerField(),
                },
            )
        }
    )
    def get(self, request):
        query, rows, meta = _usage(request)
        return Response(
            {
                "since": query["since"],
                "until": query["until"],
                "prices": {
                    "sms_segment": settings.USAGE_PRICE_SMS_SEGMENT,
                    "call": settings.USAGE_PRICE_CALL,
                    "ai_1k_tokens": settings.USAGE_PRICE_AI_1K_TOKENS,
                },
                "items": [row.as_dict() for row in rows],
                **meta,
            }
        )


@extend_schema(tags=["admin"], parameters=[UsageQuery])
class AdminUsageCsvApi(AdminAPIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        _query_data, rows, _meta = _usage(request)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            data = row.as_dict()
            data["service_mix"] = ";".join(f"{kind}={count}" for kind, count in sorted(row.service_mix.items()))
            writer.writerow([data[column] for column in CSV_COLUMNS])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="usage.csv"'
        return response


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField()
    business_id = serializers.UUIDField(allow_null=True)
    business_name = serializers.CharField()
    ip_address = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    request_id = serializers.CharField()
    details = serializers.DictField()


class AuditQuery(serializers.Serializer):
    business_id = serializers.UUIDField(required=False)
    action = serializers.CharField(required=False, max_length=60)
    since = serializers.DateTimeField(required=False)
    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)


@extend_schema(tags=["admin"], parameters=[AuditQuery])
class AdminAuditApi(AdminAPIView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "AdminAuditPage",
                {
                    "items": AuditEntrySerializer(many=True),
                    "total": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "limit": serializers.IntegerField(),
                },
            )
        }
    )
    def get(self, request):
        query = _query(AuditQuery, request)
        entries = AdminAuditEntry.objects.all()
        if query.get("business_id"):
            entries = entries.filter(business_id=query["business_id"])
        if query.get("action"):
            entries = entries.filter(action=query["action"])
        if query.get("since"):
            entries = entries.filter(created_at__gte=query["since"])
        items, meta = _page(entries, query)
        return Response({"items": AuditEntrySerializer(items, many=True).data, **meta})


class DemoTenantsInput(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=5, default=1)
    calls_per_day = serializers.IntegerField(min_value=1, max_value=10, default=3)


@extend_schema(tags=["admin"])
class AdminDemoTenantsApi(AdminAPIView):
    """Demo businesses with 30 days of realistic activity; running it again changes nothing."""

    @extend_schema(
        request=DemoTenantsInput,
        responses={
            200: inline_serializer(
                "AdminDemoTenants",
                {
                    "items": inline_serializer(
                        "AdminDemoTenant",
                        {
                            "business_id": serializers.UUIDField(),
                            "name": serializers.CharField(),
                            "created": serializers.BooleanField(),
                            "calls": serializers.IntegerField(),
                            "missed": serializers.IntegerField(),
                            "bookings": serializers.IntegerField(),
                            "owner_email": serializers.CharField(),
                        },
                        many=True,
                    ),
                    "owner_password": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request):
        from apps.tenants.demo import DEMO_PASSWORD

        serializer = DemoTenantsInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        summaries = operator.demo_businesses_seed(actor=self.actor(), **serializer.validated_data)
        return Response({"items": [summary.__dict__ for summary in summaries], "owner_password": DEMO_PASSWORD})


class HealthQuery(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1, max_value=120, default=60)
    check_numbers = serializers.BooleanField(default=True)
    business_id = serializers.UUIDField(required=False)
    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=50)


@extend_schema(tags=["admin"], parameters=[HealthQuery])
class AdminTwilioHealthApi(AdminAPIView):
    """Webhook outcomes per business over the last minutes (error rate, signature failures) and,
    checked against Twilio through its SDK, whether each number's webhooks point here."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        from apps.tenants.twilio_health import twilio_health

        query = _query(HealthQuery, request)
        businesses = _filtered_businesses({})
        if query.get("business_id"):
            businesses = businesses.filter(pk=query["business_id"])
        items, meta = _page(businesses, query)
        report = twilio_health(businesses=items, minutes=query["minutes"], check_numbers=query["check_numbers"])
        return Response({**report, **meta})
