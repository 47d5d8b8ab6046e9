"""TS-Auth-Service and TS-User-Service endpoints (seed 000), in the response envelope."""

import json

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError

from apps.accounts import selectors, services
from apps.accounts.authentication import user_for_token, validated_access_token
from apps.accounts.models import Role, User
from apps.accounts.serializers import (
    ProfileInputSerializer,
    StatusInputSerializer,
    TeamMemberInputSerializer,
    TokenPairSerializer,
    UserOutputSerializer,
)
from apps.accounts.tokens import decode_refresh_token, password_version, token_pair_for
from apps.tenants.selectors import business_get
from apps.tenants.serializers import RegistrationInputSerializer
from apps.tenants.services import business_register
from nevermisscall import ratelimit
from nevermisscall.api import PublicAPIView
from nevermisscall.pagination import PageLimitPagination
from nevermisscall.permissions import IsBusinessMember, requires

PREFERENCES_MAX_BYTES = 16 * 1024


class IsUserAccount(BasePermission):
    """A signed-in person (not an API key)."""

    def has_permission(self, request, view):
        return isinstance(request.user, User) and request.user.is_authenticated


def _tenant_summary(user: User) -> dict | None:
    if user.business_id is None:
        return None
    business = user.business
    return {"id": str(business.id), "name": business.name, "slug": business.slug}


def _session_payload(user: User) -> dict:
    return {"user": UserOutputSerializer(user).data, "tenant": _tenant_summary(user), "tokens": token_pair_for(user)}


SessionPayload = inline_serializer(
    "AuthSession",
    {"user": UserOutputSerializer(), "tenant": serializers.DictField(allow_null=True), "tokens": TokenPairSerializer()},
)


class RegisterApi(APIView):
    """Anonymous: registers a business and its owner (as ``POST /tenants``).
    Signed in as an owner or admin: adds a team member to your business."""

    permission_classes = [AllowAny]

    @extend_schema(request=RegistrationInputSerializer, responses={201: SessionPayload}, tags=["auth"])
    def post(self, request):
        if request.user.is_authenticated:
            if not (isinstance(request.user, User) and request.user.has_business_permission("users:manage")):
                raise exceptions.PermissionDenied("Only owners and admins can add team members.")
            serializer = TeamMemberInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            user = services.user_create(business=request.user.business, **serializer.validated_data)
            return Response({"user": UserOutputSerializer(user).data}, status=status.HTTP_201_CREATED)
        serializer = RegistrationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _, owner = business_register(**serializer.validated_data)
        return Response(_session_payload(owner), status=status.HTTP_201_CREATED)


def _throttle_auth_attempt(request, account: str) -> None:
    refused = ratelimit.auth_attempt(request, account)
    if refused is not None:
        raise exceptions.Throttled(wait=refused.retry_after, detail="Too many login attempts.")


class LoginApi(PublicAPIView):
    permission_classes = [AllowAny]

    class LoginInputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(max_length=128)

    @extend_schema(request=LoginInputSerializer, responses={200: SessionPayload}, tags=["auth"])
    def post(self, request):
        serializer = self.LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"].lower()
        _throttle_auth_attempt(request, email)
        user = services.user_authenticate(request=request, email=email, password=serializer.validated_data["password"])
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid email or password.", code="invalid_credentials")
        if user.business_id and user.business.status != user.business.Status.ACTIVE:
            raise exceptions.PermissionDenied("This business is suspended.")
        return Response(_session_payload(user))


class RefreshApi(PublicAPIView):
    permission_classes = [AllowAny]

    class RefreshInputSerializer(serializers.Serializer):
        refresh_token = serializers.CharField(required=False)
        refresh = serializers.CharField(required=False)

        def validate(self, attrs):
            token = attrs.get("refresh_token") or attrs.get("refresh")
            if not token:
                raise serializers.ValidationError({"refresh_token": "This field is required."}, code="required")
            return {"token": token}

    @extend_schema(request=RefreshInputSerializer, responses={200: TokenPairSerializer}, tags=["auth"])
    @transaction.atomic
    def post(self, request):
        serializer = self.RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            refresh = decode_refresh_token(serializer.validated_data["token"])
        except ExpiredTokenError as exc:
            raise exceptions.AuthenticationFailed("The refresh token has expired.", code="token_expired") from exc
        except TokenError as exc:
            raise exceptions.AuthenticationFailed("The refresh token is not valid.", code="token_invalid") from exc
        user = User.objects.filter(pk=refresh.get("sub"), is_active=True).select_related("business").first()
        claimed = refresh.get("tenant_id") or None
        resolved = str(request.tenant.id) if getattr(request, "tenant", None) is not None else None
        if (
            user is None
            or claimed != (str(user.business_id) if user.business_id else None)
            or (resolved is not None and resolved != claimed)
            or refresh.get("pwv") != password_version(user)
        ):
            raise exceptions.AuthenticationFailed("The refresh token does not belong to this business.")
        refresh.blacklist()
        return Response(token_pair_for(user))


TokenValidation = inline_serializer(
    "TokenValidation",
    {"valid": serializers.BooleanField(), "user": UserOutputSerializer(), "claims": serializers.DictField()},
)
PreferencesOutput = inline_serializer(
    "UserPreferences", {"user_id": serializers.UUIDField(), "preferences": serializers.DictField()}
)
StatusOutput = inline_serializer(
    "UserStatus",
    {
        "user_id": serializers.UUIDField(),
        "status": serializers.CharField(),
        "message": serializers.CharField(),
        "updated_at": serializers.DateTimeField(allow_null=True),
        "is_online": serializers.BooleanField(),
    },
)
UserValidationOutput = inline_serializer(
    "UserValidation",
    {
        "valid": serializers.BooleanField(),
        "exists": serializers.BooleanField(),
        "user_id": serializers.UUIDField(allow_null=True),
        "role": serializers.CharField(allow_null=True),
        "is_active": serializers.BooleanField(),
    },
)


class ValidateTokenApi(PublicAPIView):
    permission_classes = [AllowAny]

    class ValidateTokenInputSerializer(serializers.Serializer):
        token = serializers.CharField(required=False)

    @extend_schema(request=ValidateTokenInputSerializer, responses={200: TokenValidation}, tags=["auth"])
    def post(self, request):
        serializer = self.ValidateTokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data.get("token")
        if not raw:
            scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
            if scheme != "Bearer" or not raw:
                raise exceptions.NotAuthenticated("Give the token in the body or as a Bearer header.")
        token = validated_access_token(request, raw.strip())
        request.tenant = request.tenant or business_get(business_id=token.get("tenant_id"))
        user = user_for_token(request, token)
        claims = {name: token.get(name) for name in ("sub", "tenant_id", "role", "permissions", "scope", "iat", "exp")}
        return Response({"valid": True, "user": UserOutputSerializer(user).data, "claims": claims})


class ProfileApi(APIView):
    permission_classes = [IsUserAccount]

    @extend_schema(responses={200: UserOutputSerializer}, tags=["auth"])
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(request=ProfileInputSerializer, responses={200: UserOutputSerializer}, tags=["auth"])
    def put(self, request):
        serializer = ProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, data=serializer.validated_data)
        return Response(UserOutputSerializer(user).data)


class ChangePasswordApi(APIView):
    permission_classes = [IsUserAccount]

    class ChangePasswordInputSerializer(serializers.Serializer):
        current_password = serializers.CharField(max_length=128)
        new_password = serializers.CharField(max_length=128)

    @extend_schema(request=ChangePasswordInputSerializer, responses={200: TokenPairSerializer}, tags=["auth"])
    def post(self, request):
        serializer = self.ChangePasswordInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _throttle_auth_attempt(request, request.user.email)  # A stolen session must not guess the password.
        user = services.user_change_password(user=request.user, **serializer.validated_data)
        return Response({"message": "Password changed; earlier tokens no longer work.", "tokens": token_pair_for(user)})


# --- TS-User-Service ----------------------------------------------------------------------------


def _member_or_404(request, user_id) -> User:
    user = selectors.user_get_in_business(business=request.tenant, user_id=user_id)
    if user is None:
        raise exceptions.NotFound()
    return user


def _require_self_or_manager(request, user: User) -> None:
    actor = request.user
    if getattr(actor, "pk", None) != user.pk and not actor.has_business_permission("users:manage"):
        raise exceptions.PermissionDenied("You can only change your own profile.")


class UserProfileApi(APIView):
    permission_classes = [IsBusinessMember]

    @extend_schema(responses={200: UserOutputSerializer}, tags=["users"])
    def get(self, request, user_id):
        return Response(UserOutputSerializer(_member_or_404(request, user_id)).data)

    @extend_schema(request=ProfileInputSerializer, responses={200: UserOutputSerializer}, tags=["users"])
    def put(self, request, user_id):
        user = _member_or_404(request, user_id)
        _require_self_or_manager(request, user)
        serializer = ProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(
            UserOutputSerializer(services.user_update_profile(user=user, data=serializer.validated_data)).data
        )


class UserPhotoApi(APIView):
    permission_classes = [IsBusinessMember]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": inline_serializer("PhotoUpload", {"photo": serializers.FileField()})},
        responses={201: UserOutputSerializer},
        tags=["users"],
    )
    def post(self, request, user_id):
        user = _member_or_404(request, user_id)
        _require_self_or_manager(request, user)
        upload = request.FILES.get("photo") or request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError(
                {"photo": ["Upload the image as multipart field 'photo'."]}, code="required"
            )
        user = services.user_set_photo(user=user, upload=upload)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserPreferencesApi(APIView):
    permission_classes = [IsBusinessMember]

    @extend_schema(responses={200: PreferencesOutput}, tags=["users"])
    def get(self, request, user_id):
        user = _member_or_404(request, user_id)
        _require_self_or_manager(request, user)
        return Response({"user_id": str(user.pk), "preferences": services.user_preferences(user)})

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: PreferencesOutput},
        tags=["users"],
        description=(
            'Merges the given preferences. `digest`: `{"channel": "off" | "sms" | "email", "hour": 0-23}`, '
            "the person's daily digest (owners and managers; SMS to their own phone, e-mail to their address, "
            "at the hour in the business's time zone); a value that cannot be stored is a 400 and nothing changes."
        ),
    )
    def put(self, request, user_id):
        user = _member_or_404(request, user_id)
        if getattr(request.user, "pk", None) != user.pk:
            raise exceptions.PermissionDenied("Preferences are personal: change your own.")
        changes = request.data.get("preferences", request.data) if isinstance(request.data, dict) else None
        if not isinstance(changes, dict) or not changes:
            raise exceptions.ValidationError({"preferences": ["Give an object of preferences to change."]})
        if len(json.dumps(changes)) > PREFERENCES_MAX_BYTES:
            raise exceptions.ValidationError({"preferences": ["Preferences are limited to 16 KB."]})
        user = services.user_update_preferences(user=user, changes=changes)
        return Response({"user_id": str(user.pk), "preferences": services.user_preferences(user)})


class UserStatusApi(APIView):
    permission_classes = [IsBusinessMember]

    def _body(self, user):
        return {
            "user_id": str(user.pk),
            "status": user.status,
            "message": user.status_message,
            "updated_at": user.status_updated_at,
            "is_online": user.status != "offline",
        }

    @extend_schema(responses={200: StatusOutput}, tags=["users"])
    def get(self, request, user_id):
        return Response(self._body(_member_or_404(request, user_id)))

    @extend_schema(request=StatusInputSerializer, responses={200: StatusOutput}, tags=["users"])
    def put(self, request, user_id):
        user = _member_or_404(request, user_id)
        if getattr(request.user, "pk", None) != user.pk:
            raise exceptions.PermissionDenied("You can only set your own status.")
        serializer = StatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.user_update_status(user=user, status=data["status"], message=data.get("message"))
        return Response(self._body(user))


class UsersByTenantApi(APIView):
    permission_classes = [IsBusinessMember]

    class FilterSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices, required=False)
        status = serializers.ChoiceField(choices=["available", "busy", "offline"], required=False)
        search = serializers.CharField(max_length=100, required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: UserOutputSerializer(many=True)}, tags=["users"])
    def get(self, request, tenant_id):
        if str(request.tenant.id) != str(tenant_id):
            raise exceptions.NotFound()
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.user_list(business=request.tenant, **filters.validated_data)
        paginator = PageLimitPagination()
        page = paginator.paginate_queryset(queryset, request, self)
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)


class UserValidateApi(APIView):
    permission_classes = [IsBusinessMember]

    class UserValidateInputSerializer(serializers.Serializer):
        user_id = serializers.UUIDField(required=False)
        email = serializers.EmailField(required=False)

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError("Give user_id or email.")
            return attrs

    @extend_schema(request=UserValidateInputSerializer, responses={200: UserValidationOutput}, tags=["users"])
    def post(self, request):
        serializer = self.UserValidateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        queryset = User.objects.filter(business=request.tenant)
        if "user_id" in data:
            queryset = queryset.filter(pk=data["user_id"])
        if "email" in data:
            queryset = queryset.filter(email__iexact=data["email"])
        user = queryset.first()
        return Response(
            {
                "valid": user is not None and user.is_active,
                "exists": user is not None,
                "user_id": str(user.pk) if user else None,
                "role": user.role if user else None,
                "is_active": user.is_active if user else False,
            }
        )


class UserCreateApi(APIView):
    permission_classes = [requires("users:manage")]

    @extend_schema(request=TeamMemberInputSerializer, responses={201: UserOutputSerializer}, tags=["users"])
    def post(self, request):
        serializer = TeamMemberInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(business=request.tenant, **serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)
