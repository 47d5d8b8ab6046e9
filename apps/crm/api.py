"""Seed 001's ``/appointments`` (Bella V3): list, create, update — in the caller's business only."""

from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from apps.crm import selectors, services
from apps.crm.models import Appointment, Customer, Reschedule
from nevermisscall.permissions import IsBusinessMember, requires
from nevermisscall.phone import InvalidPhoneNumber, to_e164
from nevermisscall.seed001 import Seed001APIView


class CanReadAppointments(IsBusinessMember):
    message = "This needs the 'appointments:read' or 'appointments:write' permission."

    def has_permission(self, request, view):
        user = request.user
        return super().has_permission(request, view) and (
            user.has_business_permission("appointments:read") or user.has_business_permission("appointments:write")
        )


class AppointmentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    user_id = serializers.UUIDField(source="customer_id", help_text="The customer's id.")
    starts_at = serializers.DateTimeField(source="start")
    ends_at = serializers.DateTimeField(source="end")
    duration_min = serializers.SerializerMethodField()
    status = serializers.CharField()
    full_name = serializers.CharField(source="customer.name")
    mobile = serializers.CharField(source="customer.phone")
    job_type = serializers.CharField()
    trade = serializers.CharField()
    is_emergency = serializers.BooleanField()
    estimated_value = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    address = serializers.CharField()
    notes = serializers.CharField()
    technician_id = serializers.UUIDField(allow_null=True)
    source = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_duration_min(self, appointment) -> int:
        return int((appointment.end - appointment.start).total_seconds() // 60)


def _customer(data) -> Customer:
    if data.get("user_id"):
        customer = Customer.objects.filter(pk=data["user_id"]).first()
        if customer is None:
            raise exceptions.NotFound("No such customer.")
        return customer
    customer, _ = services.customer_get_or_create_by_phone(phone=data["mobile"], name=data.get("full_name", ""))
    return customer


class AppointmentListApi(Seed001APIView):
    class AppointmentCreateInputSerializer(serializers.Serializer):
        user_id = serializers.UUIDField(required=False, help_text="An existing customer; or give mobile (+ full_name).")
        mobile = serializers.CharField(required=False, max_length=32)
        full_name = serializers.CharField(required=False, max_length=200, allow_blank=True)
        starts_at = serializers.DateTimeField()
        duration_min = serializers.IntegerField(min_value=5, max_value=24 * 60, default=60)
        job_type = serializers.CharField(required=False, max_length=100, allow_blank=True, default="")
        trade = serializers.CharField(required=False, max_length=20, allow_blank=True, default="")
        is_emergency = serializers.BooleanField(default=False)
        estimated_value = serializers.DecimalField(
            max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True
        )
        address = serializers.CharField(required=False, max_length=300, allow_blank=True, default="")
        notes = serializers.CharField(required=False, max_length=2000, allow_blank=True, default="")

        def validate_mobile(self, value):
            try:
                return to_e164(value)
            except InvalidPhoneNumber as exc:
                raise serializers.ValidationError("Not a valid phone number.") from exc

        def validate(self, attrs):
            if not attrs.get("user_id") and not attrs.get("mobile"):
                raise serializers.ValidationError({"user_id": "Give user_id or mobile."})
            return attrs

    class AppointmentListQuerySerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
        skip = serializers.IntegerField(min_value=0, default=0)
        status = serializers.ChoiceField(choices=Appointment.Status.choices, required=False)

    def get_permissions(self):
        return [requires("appointments:write")()] if self.request.method == "POST" else [CanReadAppointments()]

    @extend_schema(
        operation_id="appointments_list",
        parameters=[AppointmentListQuerySerializer],
        responses={200: AppointmentOutputSerializer(many=True)},
        tags=["appointments"],
    )
    def get(self, request):
        query = self.AppointmentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        appointments = selectors.appointment_list(status=params.get("status"))[
            params["skip"] : params["skip"] + params["limit"]
        ]
        return Response(AppointmentOutputSerializer(appointments, many=True).data)

    @extend_schema(
        operation_id="appointments_create",
        request=AppointmentCreateInputSerializer,
        responses={201: AppointmentOutputSerializer},
        tags=["appointments"],
    )
    def post(self, request):
        serializer = self.AppointmentCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        appointment = services.appointment_book(
            customer=_customer(data),
            start=data["starts_at"],
            end=data["starts_at"] + timedelta(minutes=data["duration_min"]),
            job_type=data["job_type"],
            trade=data["trade"],
            is_emergency=data["is_emergency"],
            estimated_value=data.get("estimated_value"),
            address=data["address"],
            notes=data["notes"],
            source=Appointment.Source.API,
        )
        return Response(AppointmentOutputSerializer(appointment).data, status=status.HTTP_201_CREATED)


class AppointmentDetailApi(Seed001APIView):
    permission_classes = [requires("appointments:write")]

    class AppointmentUpdateInputSerializer(serializers.Serializer):
        starts_at = serializers.DateTimeField(required=False)
        duration_min = serializers.IntegerField(min_value=5, max_value=24 * 60, required=False)
        status = serializers.ChoiceField(choices=Appointment.Status.choices, required=False)
        notes = serializers.CharField(required=False, max_length=2000, allow_blank=True)

    @extend_schema(
        operation_id="appointments_update",
        request=AppointmentUpdateInputSerializer,
        responses={200: AppointmentOutputSerializer},
        parameters=[OpenApiParameter("appointment_id", str, OpenApiParameter.PATH)],
        tags=["appointments"],
    )
    def put(self, request, appointment_id):
        appointment = selectors.appointment_get(appointment_id=appointment_id)
        if appointment is None:
            raise exceptions.NotFound("Appointment not found.")
        serializer = self.AppointmentUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.appointment_update(
            appointment=appointment,
            moved_by=Reschedule.MovedBy.APPOINTMENTS_API,
            actor_id=getattr(request.user, "pk", None),
            **serializer.validated_data,
        )
        return Response(AppointmentOutputSerializer(appointment).data)
