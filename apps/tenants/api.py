"""TS-Tenant-Service and TS-Config-Service endpoints (seed 000), API credentials, internal lookups."""

from django.db import transaction
from django_tenants.utils import schema_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.accounts.serializers import TokenPairSerializer, UserOutputSerializer
from apps.accounts.tokens import token_pair_for
from apps.tenants import selectors, services
from apps.tenants.config import services as config_services
from apps.tenants.config.serializers import BusinessConfigOutputSerializer, BusinessConfigSerializer
from apps.tenants.models import ApiCredential, Business
from apps.tenants.serializers import (
    BusinessOutputSerializer,
    BusinessUpdateInputSerializer,
    CredentialCreateInputSerializer,
    CredentialOutputSerializer,
    OnboardingInputSerializer,
    RegistrationInputSerializer,
)
from nevermisscall.api import InternalAPIView, PublicAPIView
from nevermisscall.health import run_checks
from nevermisscall.ids import parse_uuid
from nevermisscall.pagination import PageLimitPagination
from nevermisscall.permissions import HasServiceKey, IsBusinessMember, requires


def own_business_or_404(request, tenant_id) -> Business:
    """The request's business if ``tenant_id`` names it; 404 for any other id (never reveal others)."""
    if request.tenant is None or str(request.tenant.id) != str(tenant_id):
        raise exceptions.NotFound()
    return request.tenant


def config_payload(business: Business, config) -> dict:
    return {
        "tenant_id": str(business.id),
        "timezone": business.timezone,
        "business_hours": config.business_hours,
        "holiday_closures": config.holiday_closures,
        "holiday_calendar": config.holiday_calendar,
        "emergency_multiplier": float(config.emergency_multiplier) if config.emergency_multiplier is not None else None,
        "pricing_note": config.pricing_note,
        "referral_note": config.referral_note,
        "trades": config.trades,
        "service_area": config.service_area,
        "job_estimates": config.job_estimates,
        "greeting_template": config.greeting_template,
        "auto_reply_template": config.auto_reply_template,
        "ai_settings": config.ai_settings,
        "forwarding_number": config.forwarding_number,
        "ring_timeout": config.ring_timeout,
        "call_screening": config.call_screening,
        "sms_cooldown_minutes": config.sms_cooldown_minutes,
        "reminder_hours": config.reminder_hours,
        "sms_daily_quota": config.sms_daily_quota,
        "language": config.language,
        "updated_at": config.updated_at,
    }


TenantValidation = inline_serializer(
    "TenantValidation",
    {
        "valid": serializers.BooleanField(),
        "exists": serializers.BooleanField(),
        "status": serializers.CharField(allow_null=True),
    },
)
InternalUserValidation = inline_serializer(
    "InternalUserValidation",
    {
        "valid": serializers.BooleanField(),
        "user_id": serializers.UUIDField(),
        "tenant_id": serializers.UUIDField(allow_null=True),
        "role": serializers.CharField(),
    },
)
InternalHealth = inline_serializer(
    "InternalHealth",
    {"status": serializers.CharField(), "checks": serializers.DictField(child=serializers.CharField())},
)

RegistrationOutput = inline_serializer(
    "Registration",
    {"tenant": BusinessOutputSerializer(), "user": UserOutputSerializer(), "tokens": TokenPairSerializer()},
)


class TenantRegisterApi(PublicAPIView):
    permission_classes = [AllowAny]

    @extend_schema(request=RegistrationInputSerializer, responses={201: RegistrationOutput}, tags=["tenants"])
    def post(self, request):
        serializer = RegistrationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        business, owner = services.business_register(**serializer.validated_data)
        body = {
            "tenant": BusinessOutputSerializer(business).data,
            "user": UserOutputSerializer(owner).data,
            "tokens": token_pair_for(owner),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class TenantDetailApi(APIView):
    def get_permissions(self):
        return [requires("business:manage")()] if self.request.method == "PUT" else [IsBusinessMember()]

    @extend_schema(responses={200: BusinessOutputSerializer}, tags=["tenants"])
    def get(self, request, tenant_id):
        return Response(BusinessOutputSerializer(own_business_or_404(request, tenant_id)).data)

    @extend_schema(request=BusinessUpdateInputSerializer, responses={200: BusinessOutputSerializer}, tags=["tenants"])
    def put(self, request, tenant_id):
        business = own_business_or_404(request, tenant_id)
        serializer = BusinessUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        business = services.business_update(business=business, data=serializer.validated_data)
        return Response(BusinessOutputSerializer(business).data)


class TenantOnboardingApi(APIView):
    permission_classes = [requires("config:write")]

    @extend_schema(request=OnboardingInputSerializer, responses={200: BusinessOutputSerializer}, tags=["tenants"])
    def put(self, request, tenant_id):
        business = own_business_or_404(request, tenant_id)
        serializer = OnboardingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step = serializer.validated_data
        business_part = {
            key: step["data"][key] for key in ("name", "phone", "email", "website", "trade") if key in step["data"]
        }
        config_part = {key: value for key, value in step["data"].items() if key not in business_part}
        validated_business = {}
        if business_part:
            business_serializer = BusinessUpdateInputSerializer(data=business_part)
            business_serializer.is_valid(raise_exception=True)
            validated_business = business_serializer.validated_data
        config_serializer = BusinessConfigSerializer(data=config_part)
        config_serializer.is_valid(raise_exception=True)
        unknown = set(config_part) - set(BusinessConfigSerializer().fields)
        if unknown:
            raise exceptions.ValidationError({"data": [f"Unknown settings: {', '.join(sorted(unknown))}."]})
        business = services.business_onboarding_update(
            business=business,
            step=step["step"],
            data={**validated_business, **config_serializer.validated_data},
            completed=step["completed"],
        )
        return Response(BusinessOutputSerializer(business).data)


def _validated_config(request, *, partial: bool) -> dict:
    serializer = BusinessConfigSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    unknown = set(request.data) - set(serializer.fields) if isinstance(request.data, dict) else set()
    if unknown:
        raise exceptions.ValidationError({"non_field_errors": [f"Unknown settings: {', '.join(sorted(unknown))}."]})
    if partial and not serializer.validated_data:
        raise exceptions.ValidationError({"non_field_errors": ["Give at least one setting to change."]})
    return serializer.validated_data


class ConfigApi(APIView):
    def get_permissions(self):
        return [IsBusinessMember()] if self.request.method == "GET" else [requires("config:write")()]

    @extend_schema(responses={200: BusinessConfigOutputSerializer}, tags=["config"])
    def get(self, request, tenant_id):
        business = own_business_or_404(request, tenant_id)
        return Response(config_payload(business, config_services.config_get()))

    @extend_schema(request=BusinessConfigSerializer, responses={201: BusinessConfigOutputSerializer}, tags=["config"])
    @transaction.atomic
    def post(self, request, tenant_id):
        """Create the configuration afresh: defaults, then the given settings."""
        business = own_business_or_404(request, tenant_id)
        data = _validated_config(request, partial=False)
        config_services.config_reset(business=business)
        config = config_services.config_update(business=business, data=data)
        return Response(config_payload(business, config), status=status.HTTP_201_CREATED)

    @extend_schema(request=BusinessConfigSerializer, responses={200: BusinessConfigOutputSerializer}, tags=["config"])
    def put(self, request, tenant_id):
        business = own_business_or_404(request, tenant_id)
        config = config_services.config_update(business=business, data=_validated_config(request, partial=True))
        return Response(config_payload(business, config))


class ConfigResetApi(APIView):
    permission_classes = [requires("config:write")]

    @extend_schema(request=None, responses={200: BusinessConfigOutputSerializer}, tags=["config"])
    def post(self, request, tenant_id):
        business = own_business_or_404(request, tenant_id)
        return Response(config_payload(business, config_services.config_reset(business=business)))


# --- API keys and widget tokens -----------------------------------------------------------------


def _credential_or_404(request, credential_id) -> ApiCredential:
    pk = parse_uuid(credential_id)
    credential = pk and ApiCredential.objects.filter(business=request.tenant, pk=pk).first()
    if not credential:
        raise exceptions.NotFound()
    return credential


CredentialWithSecret = inline_serializer(
    "CredentialWithSecret", {"credential": CredentialOutputSerializer(), "secret": serializers.CharField()}
)


class CredentialListApi(APIView):
    permission_classes = [requires("api_keys:manage")]

    @extend_schema(responses={200: CredentialOutputSerializer(many=True)}, tags=["api-keys"])
    def get(self, request):
        kind = request.query_params.get("kind")
        if kind and kind not in ApiCredential.Kind.values:
            raise exceptions.ValidationError({"kind": [f"Use one of {ApiCredential.Kind.values}."]})
        queryset = selectors.credential_list(business=request.tenant, kind=kind)
        paginator = PageLimitPagination()
        page = paginator.paginate_queryset(queryset, request, self)
        return paginator.get_paginated_response(CredentialOutputSerializer(page, many=True).data)

    @extend_schema(request=CredentialCreateInputSerializer, responses={201: CredentialWithSecret}, tags=["api-keys"])
    def post(self, request):
        serializer = CredentialCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credential, secret = services.credential_create(
            business=request.tenant, created_by=request.user, **serializer.validated_data
        )
        body = {"credential": CredentialOutputSerializer(credential).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class CredentialDetailApi(APIView):
    permission_classes = [requires("api_keys:manage")]

    @extend_schema(responses={200: CredentialOutputSerializer}, tags=["api-keys"])
    def get(self, request, credential_id):
        return Response(CredentialOutputSerializer(_credential_or_404(request, credential_id)).data)

    @extend_schema(responses={200: CredentialOutputSerializer}, tags=["api-keys"])
    def delete(self, request, credential_id):
        credential = services.credential_revoke(credential=_credential_or_404(request, credential_id))
        return Response(CredentialOutputSerializer(credential).data)


class CredentialRotateApi(APIView):
    permission_classes = [requires("api_keys:manage")]

    @extend_schema(request=None, responses={201: CredentialWithSecret}, tags=["api-keys"])
    def post(self, request, credential_id):
        credential = _credential_or_404(request, credential_id)
        if credential.revoked_at is not None:
            raise exceptions.ValidationError({"credential": ["A revoked credential cannot be rotated."]})
        new, secret = services.credential_rotate(credential=credential, rotated_by=request.user)
        body = {"credential": CredentialOutputSerializer(new).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


# --- Internal (x-service-key) -------------------------------------------------------------------


def _business_or_404(tenant_id) -> Business:
    business = selectors.business_get(business_id=tenant_id)
    if business is None:
        raise exceptions.NotFound()
    return business


@extend_schema(parameters=[OpenApiParameter("x-service-key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)])
class InternalApi(PublicAPIView):
    permission_classes = [HasServiceKey]


class InternalTenantApi(InternalAPIView):
    @extend_schema(responses={200: BusinessOutputSerializer}, tags=["internal"])
    def get(self, request, tenant_id):
        return Response(BusinessOutputSerializer(_business_or_404(tenant_id)).data)


class InternalTenantValidateApi(InternalAPIView):
    class TenantValidateInputSerializer(serializers.Serializer):
        tenant_id = serializers.UUIDField()

    @extend_schema(request=TenantValidateInputSerializer, responses={200: TenantValidation}, tags=["internal"])
    def post(self, request):
        serializer = self.TenantValidateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        business = selectors.business_get(business_id=serializer.validated_data["tenant_id"])
        return Response(
            {
                "valid": business is not None and business.status == Business.Status.ACTIVE,
                "exists": business is not None,
                "status": business.status if business else None,
            }
        )


class InternalConfigApi(InternalAPIView):
    @extend_schema(responses={200: BusinessConfigOutputSerializer}, tags=["internal"])
    def get(self, request, tenant_id):
        business = _business_or_404(tenant_id)
        with schema_context(business.schema_name):
            return Response(config_payload(business, config_services.config_get()))


class InternalConfigDefaultsApi(InternalAPIView):
    @extend_schema(request=None, responses={201: BusinessConfigOutputSerializer}, tags=["internal"])
    def post(self, request, tenant_id):
        business = _business_or_404(tenant_id)
        with schema_context(business.schema_name):
            config = config_services.config_ensure_defaults(business=business)
            return Response(config_payload(business, config), status=status.HTTP_201_CREATED)


def _user_or_404(user_id) -> User:
    pk = parse_uuid(user_id)
    user = pk and User.objects.filter(pk=pk).first()
    if not user:
        raise exceptions.NotFound()
    return user


class InternalUserApi(InternalAPIView):
    @extend_schema(responses={200: UserOutputSerializer}, tags=["internal"])
    def get(self, request, user_id):
        return Response(UserOutputSerializer(_user_or_404(user_id)).data)


class InternalUserValidateApi(InternalAPIView):
    @extend_schema(responses={200: InternalUserValidation}, tags=["internal"])
    def get(self, request, user_id):
        user = _user_or_404(user_id)
        return Response(
            {"valid": user.is_active, "user_id": str(user.pk), "tenant_id": user.business_id, "role": user.role}
        )


class InternalTenantUsersApi(InternalAPIView):
    @extend_schema(responses={200: UserOutputSerializer(many=True)}, tags=["internal"])
    def get(self, request, tenant_id):
        business = _business_or_404(tenant_id)
        queryset = User.objects.filter(business=business).order_by("date_joined")
        paginator = PageLimitPagination()
        page = paginator.paginate_queryset(queryset, request, self)
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)


class InternalHealthApi(InternalAPIView):
    @extend_schema(responses={200: InternalHealth}, tags=["internal"])
    def get(self, request):
        overall, results = run_checks()
        return Response({"status": overall, "checks": {name: result.status for name, result in results.items()}})
