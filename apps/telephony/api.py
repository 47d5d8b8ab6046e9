"""PNS-Provisioning and AS-Call-Service call endpoints (seed 000), in the envelope."""

from django_tenants.utils import tenant_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.conversations.models import Conversation
from apps.conversations.serializers import ConversationOutputSerializer
from apps.telephony import phone_numbers, selectors, services
from apps.telephony.models import Call, CallParticipant, PhoneNumber
from apps.telephony.providers import twilio_numbers
from apps.telephony.registry.selectors import business_get_by_number
from nevermisscall.api import InternalAPIView
from nevermisscall.pagination import PageLimitPagination
from nevermisscall.permissions import requires
from nevermisscall.phone import InvalidPhoneNumber, to_e164


class E164Field(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return to_e164(value)
        except InvalidPhoneNumber:
            raise serializers.ValidationError("Not a valid phone number.", code="invalid_format")


def paginated(request, view, queryset, serializer_class):
    paginator = PageLimitPagination()
    page = paginator.paginate_queryset(queryset, request, view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --- phone numbers ------------------------------------------------------------------------------


class CapabilitiesSerializer(serializers.Serializer):
    voice = serializers.BooleanField()
    sms = serializers.BooleanField()
    mms = serializers.BooleanField()


class AvailableNumberSerializer(serializers.Serializer):
    phone_number = serializers.CharField()
    friendly_name = serializers.CharField()
    locality = serializers.CharField(allow_null=True)
    region = serializers.CharField(allow_null=True)
    postal_code = serializers.CharField(allow_null=True)
    iso_country = serializers.CharField()
    capabilities = CapabilitiesSerializer()


class PhoneNumberStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()
    released = serializers.IntegerField()
    calls_last_30_days = serializers.IntegerField()
    missed_calls_last_30_days = serializers.IntegerField()
    answered_calls_last_30_days = serializers.IntegerField()


class PhoneNumberOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhoneNumber
        fields = [
            "id",
            "phone_number",
            "twilio_sid",
            "friendly_name",
            "locality",
            "region",
            "country",
            "capabilities",
            "status",
            "is_primary",
            "voice_url",
            "sms_url",
            "status_callback",
            "created_at",
            "updated_at",
            "released_at",
        ]


def number_or_404(number_id) -> PhoneNumber:
    number = selectors.phone_number_get(number_id=number_id)
    if number is None:
        raise exceptions.NotFound()
    return number


class PhoneNumberSearchApi(APIView):
    permission_classes = [requires("phone_numbers:manage")]

    class PhoneNumberSearchInputSerializer(serializers.Serializer):
        area_code = serializers.IntegerField(min_value=200, max_value=999, required=False)
        contains = serializers.RegexField(r"^[0-9A-Za-z*]{1,16}$", required=False, allow_blank=True)
        country = serializers.RegexField(r"^[A-Z]{2}$", required=False, default="US")
        sms_enabled = serializers.BooleanField(required=False, allow_null=True, default=None)
        voice_enabled = serializers.BooleanField(required=False, allow_null=True, default=None)
        mms_enabled = serializers.BooleanField(required=False, allow_null=True, default=None)
        limit = serializers.IntegerField(min_value=1, max_value=50, default=20)

    @extend_schema(
        request=PhoneNumberSearchInputSerializer,
        responses={200: AvailableNumberSerializer(many=True)},
        tags=["phone-numbers"],
    )
    def post(self, request):
        serializer = self.PhoneNumberSearchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        numbers = twilio_numbers.search_available(
            country=data["country"],
            area_code=data.get("area_code"),
            contains=data.get("contains", ""),
            flags={name: data[name] for name in ("sms_enabled", "voice_enabled", "mms_enabled")},
            limit=data["limit"],
        )
        return Response(numbers)


class PhoneNumberProvisionApi(APIView):
    permission_classes = [requires("phone_numbers:manage")]

    class PhoneNumberProvisionInputSerializer(serializers.Serializer):
        phone_number = E164Field(max_length=30)
        friendly_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        locality = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    @extend_schema(
        request=PhoneNumberProvisionInputSerializer,
        responses={201: PhoneNumberOutputSerializer},
        tags=["phone-numbers"],
    )
    def post(self, request):
        serializer = self.PhoneNumberProvisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        number = phone_numbers.phone_number_provision(
            phone_number=data["phone_number"], friendly_name=data["friendly_name"], details=data
        )
        return Response(PhoneNumberOutputSerializer(number).data, status=status.HTTP_201_CREATED)


class PhoneNumberListApi(APIView):
    permission_classes = [requires("calls:read")]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=PhoneNumber.Status.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer], responses={200: PhoneNumberOutputSerializer(many=True)}, tags=["phone-numbers"]
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated(
            request, self, selectors.phone_number_list(filters=filters.validated_data), PhoneNumberOutputSerializer
        )


class PhoneNumberStatsApi(APIView):
    permission_classes = [requires("calls:read")]

    @extend_schema(responses={200: PhoneNumberStatsSerializer}, tags=["phone-numbers"])
    def get(self, request):
        return Response(selectors.phone_number_stats())


class PhoneNumberDetailApi(APIView):
    class PhoneNumberUpdateInputSerializer(serializers.Serializer):
        friendly_name = serializers.CharField(max_length=64, required=False)
        is_primary = serializers.BooleanField(required=False)

    def get_permissions(self):
        if self.request.method == "GET":
            return [requires("calls:read")()]
        return [requires("phone_numbers:manage")()]

    @extend_schema(responses={200: PhoneNumberOutputSerializer}, tags=["phone-numbers"])
    def get(self, request, number_id):
        return Response(PhoneNumberOutputSerializer(number_or_404(number_id)).data)

    @extend_schema(
        request=PhoneNumberUpdateInputSerializer, responses={200: PhoneNumberOutputSerializer}, tags=["phone-numbers"]
    )
    def put(self, request, number_id):
        number = number_or_404(number_id)
        serializer = self.PhoneNumberUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data:
            raise exceptions.ValidationError({"non_field_errors": ["Give friendly_name or is_primary."]})
        number = phone_numbers.phone_number_update(number=number, data=serializer.validated_data)
        return Response(PhoneNumberOutputSerializer(number).data)

    @extend_schema(responses={200: PhoneNumberOutputSerializer}, tags=["phone-numbers"])
    def delete(self, request, number_id):
        number = phone_numbers.phone_number_release(number=number_or_404(number_id))
        return Response(PhoneNumberOutputSerializer(number).data)


# --- calls --------------------------------------------------------------------------------------


class CallOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Call
        fields = [
            "id",
            "call_sid",
            "direction",
            "from_number",
            "to_number",
            "forwarded_to",
            "status",
            "twilio_status",
            "dial_status",
            "missed_reason",
            "screening",
            "screen_accepted_at",
            "duration",
            "caller_name",
            "caller_city",
            "caller_state",
            "notes",
            "conversation_id",
            "auto_reply_skipped",
            "started_at",
            "answered_at",
            "ended_at",
        ]


class ParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallParticipant
        fields = ["id", "role", "phone_number", "name", "joined_at"]


def call_or_404(call_id) -> Call:
    call = selectors.call_get(call_id=call_id)
    if call is None:
        raise exceptions.NotFound()
    return call


class CallListApi(APIView):
    permission_classes = [requires("calls:read")]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Call.Status.choices, required=False)
        direction = serializers.ChoiceField(choices=Call.Direction.choices, required=False)
        caller = serializers.RegexField(r"^\+?\d{1,15}$", required=False)
        date_from = serializers.DateTimeField(required=False)
        date_to = serializers.DateTimeField(required=False)

        def validate(self, attrs):
            if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] >= attrs["date_to"]:
                raise serializers.ValidationError({"date_to": "date_to must be after date_from."})
            return attrs

    @extend_schema(parameters=[FilterSerializer], responses={200: CallOutputSerializer(many=True)}, tags=["calls"])
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated(request, self, selectors.call_list(filters=filters.validated_data), CallOutputSerializer)


class CallDetailApi(APIView):
    class CallUpdateInputSerializer(serializers.Serializer):
        notes = serializers.CharField(max_length=5000, allow_blank=True, required=False)
        caller_name = serializers.CharField(max_length=200, allow_blank=True, required=False)

    def get_permissions(self):
        return [requires("calls:read" if self.request.method == "GET" else "conversations:write")()]

    @extend_schema(responses={200: CallOutputSerializer}, tags=["calls"])
    def get(self, request, call_id):
        return Response(CallOutputSerializer(call_or_404(call_id)).data)

    @extend_schema(request=CallUpdateInputSerializer, responses={200: CallOutputSerializer}, tags=["calls"])
    def put(self, request, call_id):
        call = call_or_404(call_id)
        serializer = self.CallUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data:
            raise exceptions.ValidationError({"non_field_errors": ["Give notes or caller_name."]})
        return Response(CallOutputSerializer(services.call_update(call=call, data=serializer.validated_data)).data)


class CallParticipantsApi(APIView):
    class CallParticipantInputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=CallParticipant.Role.choices)
        phone_number = E164Field(max_length=30, required=False, allow_blank=True, default="")
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

        def validate(self, attrs):
            if not attrs["phone_number"] and not attrs["name"]:
                raise serializers.ValidationError("Give a phone_number or a name.")
            return attrs

    def get_permissions(self):
        return [requires("calls:read" if self.request.method == "GET" else "conversations:write")()]

    @extend_schema(responses={200: ParticipantSerializer(many=True)}, tags=["calls"])
    def get(self, request, call_id):
        call = call_or_404(call_id)
        return paginated(request, self, call.participants.order_by("joined_at", "id"), ParticipantSerializer)

    @extend_schema(request=CallParticipantInputSerializer, responses={201: ParticipantSerializer}, tags=["calls"])
    def post(self, request, call_id):
        call = call_or_404(call_id)
        serializer = self.CallParticipantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        participant = services.call_participant_add(call=call, **serializer.validated_data)
        return Response(ParticipantSerializer(participant).data, status=status.HTTP_201_CREATED)


class CallMetadataApi(APIView):
    class CallMetadataInputSerializer(serializers.Serializer):
        metadata = serializers.DictField()
        replace = serializers.BooleanField(default=False)

    def get_permissions(self):
        return [requires("calls:read" if self.request.method == "GET" else "conversations:write")()]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["calls"])
    def get(self, request, call_id):
        return Response(call_or_404(call_id).metadata)

    @extend_schema(request=CallMetadataInputSerializer, responses={200: OpenApiTypes.OBJECT}, tags=["calls"])
    def put(self, request, call_id):
        call = call_or_404(call_id)
        serializer = self.CallMetadataInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        call = services.call_metadata_update(call=call, **serializer.validated_data)
        return Response(call.metadata)


class CallConversationsApi(APIView):
    def get_permissions(self):
        return [requires("calls:read" if self.request.method == "GET" else "conversations:write")()]

    @extend_schema(responses={200: ConversationOutputSerializer(many=True)}, tags=["calls"])
    def get(self, request, call_id):
        call = call_or_404(call_id)
        queryset = Conversation.objects.filter(calls=call).order_by("-created_at")
        return paginated(request, self, queryset, ConversationOutputSerializer)

    @extend_schema(request=None, responses={201: ConversationOutputSerializer}, tags=["calls"])
    def post(self, request, call_id):
        conversation = services.call_conversation_create(call=call_or_404(call_id))
        return Response(ConversationOutputSerializer(conversation).data, status=status.HTTP_201_CREATED)


# --- internal (x-service-key) -------------------------------------------------------------------


class InternalCallProcessApi(InternalAPIView):
    """Record an incoming call as Twilio would report it; the business comes from ``To``."""

    class InternalCallProcessInputSerializer(serializers.Serializer):
        call_sid = serializers.RegexField(r"^CA[0-9a-fA-F]{32}$")
        from_number = E164Field(max_length=30)
        to_number = E164Field(max_length=30)

    @extend_schema(request=InternalCallProcessInputSerializer, responses={201: CallOutputSerializer}, tags=["internal"])
    def post(self, request):
        serializer = self.InternalCallProcessInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        business = business_get_by_number(phone_number=data["to_number"])
        if business is None:
            raise exceptions.NotFound()
        with tenant_context(business):
            call, created = services.call_receive(
                call_sid=data["call_sid"], from_number=data["from_number"], to_number=data["to_number"]
            )
            body = {**CallOutputSerializer(call).data, "tenant_id": str(business.id)}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class InternalCallApi(InternalAPIView):
    """``?business_id=`` selects the business (resolved before the view, like the webhooks)."""

    def call(self, request, call_id) -> Call:
        if request.tenant is None:
            raise exceptions.NotFound()
        return call_or_404(call_id)


class InternalCallMissedApi(InternalCallApi):
    @extend_schema(request=None, responses={200: CallOutputSerializer}, tags=["internal"])
    def post(self, request, call_id):
        call = services.call_mark_missed(call=self.call(request, call_id))
        return Response(CallOutputSerializer(call).data)


class InternalCallStatusApi(InternalCallApi):
    @extend_schema(
        responses={
            200: inline_serializer(
                "InternalCallStatus",
                {
                    "call_id": serializers.UUIDField(),
                    "call_sid": serializers.CharField(),
                    "status": serializers.CharField(),
                    "twilio_status": serializers.CharField(),
                    "missed_reason": serializers.CharField(),
                    "conversation_id": serializers.UUIDField(allow_null=True),
                    "auto_reply_skipped": serializers.CharField(),
                },
            )
        },
        tags=["internal"],
    )
    def get(self, request, call_id):
        call = self.call(request, call_id)
        return Response(
            {
                "call_id": str(call.id),
                "call_sid": call.call_sid,
                "status": call.status,
                "twilio_status": call.twilio_status,
                "missed_reason": call.missed_reason,
                "conversation_id": str(call.conversation_id) if call.conversation_id else None,
                "auto_reply_skipped": call.auto_reply_skipped,
            }
        )
