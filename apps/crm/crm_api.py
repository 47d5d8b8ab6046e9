"""Seed 002's CRM API (``/v1/crm/*``): customers, their appointments and timeline, in the caller's
business only. ``X-API-Key``, ``X-Owner-Token`` or a member's JWT (the default authenticators);
plain JSON bodies and seed 002's errors (``{"detail": ...}``, 422 for validation).

Statuses are seed 002's words (``booked``, ``confirmed``, ``completed``, ``cancelled``,
``no-show``); the stored values ``scheduled`` and ``no_show`` are accepted too.
"""

from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from apps.crm import selectors, services
from apps.crm.api import CanReadAppointments
from apps.crm.hooks import TimelineCursor
from apps.crm.models import Appointment, Customer, Reschedule
from nevermisscall.permissions import requires
from nevermisscall.phone import InvalidPhoneNumber, to_e164
from nevermisscall.seed002 import Seed002APIView

TO_SEED = {Appointment.Status.SCHEDULED: "booked", Appointment.Status.NO_SHOW: "no-show"}
FROM_SEED = {
    "booked": Appointment.Status.SCHEDULED,
    "no-show": Appointment.Status.NO_SHOW,
    **{value: value for value in Appointment.Status.values},
}
MAX_TAGS = 20
MAX_LIMIT = 200


def _phone(value: str) -> str:
    try:
        return to_e164(value)
    except InvalidPhoneNumber as exc:
        raise serializers.ValidationError("Not a valid phone number.") from exc


class Tags(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(max_length=40), max_length=MAX_TAGS, **kwargs)

    def to_internal_value(self, data):
        return list(dict.fromkeys(tag.strip() for tag in super().to_internal_value(data) if tag.strip()))


class StatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=list(FROM_SEED), **kwargs)

    def to_internal_value(self, data):
        return FROM_SEED[super().to_internal_value(data)]


class PageQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
    offset = serializers.IntegerField(min_value=0, default=0)


def _query(serializer_class, request):
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


# --- customers --------------------------------------------------------------------------------------


class CustomerSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=["en", "es"], required=False)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_phone(self, value):
        return _phone(value)


def _customer_or_404(customer_id) -> Customer:
    customer = selectors.customer_get(customer_id=customer_id)
    if customer is None:
        raise exceptions.NotFound("Customer not found.")
    return customer


CUSTOMER_ID = OpenApiParameter("customer_id", str, OpenApiParameter.PATH)


class CustomerListApi(Seed002APIView):
    def get_permissions(self):
        return [requires("customers:write")()]

    @extend_schema(
        operation_id="crm_customers_list",
        parameters=[PageQuery],
        responses={200: CustomerSerializer(many=True)},
        tags=["crm"],
    )
    def get(self, request):
        page = _query(PageQuery, request)
        customers = selectors.customer_list()[page["offset"] : page["offset"] + page["limit"]]
        return Response(CustomerSerializer(customers, many=True).data)

    @extend_schema(
        operation_id="crm_customers_create",
        request=CustomerSerializer,
        responses={201: CustomerSerializer},
        tags=["crm"],
    )
    def post(self, request):
        serializer = CustomerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(**serializer.validated_data)
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerSearchApi(Seed002APIView):
    permission_classes = [requires("customers:write")]

    class SearchQuery(PageQuery):
        q = serializers.CharField(max_length=100)

    @extend_schema(
        operation_id="crm_customers_search",
        parameters=[SearchQuery],
        responses={200: CustomerSerializer(many=True)},
        tags=["crm"],
    )
    def get(self, request):
        params = _query(self.SearchQuery, request)
        customers = selectors.customer_search(query=params["q"])[params["offset"] : params["offset"] + params["limit"]]
        return Response(CustomerSerializer(customers, many=True).data)


class CustomerDetailApi(Seed002APIView):
    permission_classes = [requires("customers:write")]

    @extend_schema(
        operation_id="crm_customers_get",
        parameters=[CUSTOMER_ID],
        responses={200: CustomerSerializer},
        tags=["crm"],
    )
    def get(self, request, customer_id):
        return Response(CustomerSerializer(_customer_or_404(customer_id)).data)

    @extend_schema(
        operation_id="crm_customers_update",
        parameters=[CUSTOMER_ID],
        request=CustomerSerializer(partial=True),
        responses={200: CustomerSerializer},
        tags=["crm"],
    )
    def patch(self, request, customer_id):
        customer = _customer_or_404(customer_id)
        serializer = CustomerSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_update(customer=customer, **serializer.validated_data)
        return Response(CustomerSerializer(customer).data)

    @extend_schema(operation_id="crm_customers_delete", parameters=[CUSTOMER_ID], responses={204: None}, tags=["crm"])
    def delete(self, request, customer_id):
        services.customer_delete(customer=_customer_or_404(customer_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerMergeApi(Seed002APIView):
    permission_classes = [requires("customers:write")]

    class MergeInput(serializers.Serializer):
        duplicate_id = serializers.UUIDField(help_text="The record folded into this one, then removed.")

    @extend_schema(
        operation_id="crm_customers_merge",
        parameters=[CUSTOMER_ID],
        request=MergeInput,
        responses={
            200: inline_serializer(
                "CustomerMergeResult",
                {
                    "customer": CustomerSerializer(),
                    "merged_customer_id": serializers.UUIDField(),
                    "phones": serializers.ListField(child=serializers.CharField()),
                    "moved": serializers.DictField(child=serializers.IntegerField()),
                },
            )
        },
        tags=["crm"],
    )
    def post(self, request, customer_id):
        serializer = self.MergeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        survivor = _customer_or_404(customer_id)
        result = services.customer_merge(
            survivor_id=survivor.pk, duplicate_id=serializer.validated_data["duplicate_id"]
        )
        return Response(
            {
                "customer": CustomerSerializer(result.survivor).data,
                "merged_customer_id": result.duplicate_id,
                "phones": selectors.customer_numbers(customer=result.survivor),
                "moved": result.moved,
            }
        )


# --- appointments -------------------------------------------------------------------------------------


class AppointmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    customer_name = serializers.CharField(source="customer.name")
    customer_phone = serializers.CharField(source="customer.phone")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    duration_min = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    is_emergency = serializers.BooleanField()
    estimated_value = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    technician_id = serializers.UUIDField(allow_null=True)
    job_type = serializers.CharField()
    trade = serializers.CharField()
    address = serializers.CharField()
    notes = serializers.CharField()
    source = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_duration_min(self, appointment) -> int:
        return int((appointment.end - appointment.start).total_seconds() // 60)

    def get_status(self, appointment) -> str:
        return TO_SEED.get(appointment.status, appointment.status)


class AppointmentWriteSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False)
    duration_min = serializers.IntegerField(min_value=5, max_value=24 * 60, required=False)
    status = StatusField(required=False)
    is_emergency = serializers.BooleanField(required=False)
    estimated_value = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    tags = Tags(required=False)
    technician_id = serializers.UUIDField(required=False, allow_null=True)
    job_type = serializers.CharField(max_length=100, required=False, allow_blank=True)
    trade = serializers.CharField(max_length=20, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)

    def validate_technician_id(self, value):
        if (
            value is not None
            and selectors.technician_get(business=self.context["business"], technician_id=value) is None
        ):
            raise serializers.ValidationError("No technician of this business has this id.")
        return value

    def validate(self, attrs):
        if "end" in attrs and "duration_min" in attrs:
            raise serializers.ValidationError({"end": "Give end or duration_min, not both."})
        start = attrs.get("start")
        if start is not None and "end" in attrs and attrs["end"] <= start:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        return attrs


APPOINTMENT_ID = OpenApiParameter("appointment_id", str, OpenApiParameter.PATH)


class AppointmentListQuery(PageQuery):
    status = StatusField(required=False)
    start = serializers.DateTimeField(required=False, help_text="Only appointments ending after this.")
    end = serializers.DateTimeField(required=False, help_text="Only appointments starting before this.")
    technician_id = serializers.UUIDField(required=False)


def _appointment_list_response(request, **filters):
    params = _query(AppointmentListQuery, request)
    appointments = selectors.appointment_list(
        start=params.get("start"),
        end=params.get("end"),
        status=params.get("status"),
        technician_id=params.get("technician_id"),
        **filters,
    )[params["offset"] : params["offset"] + params["limit"]]
    return Response(AppointmentSerializer(appointments, many=True).data)


class CrmAppointmentListApi(Seed002APIView):
    def get_permissions(self):
        return [requires("appointments:write")()] if self.request.method == "POST" else [CanReadAppointments()]

    @extend_schema(
        operation_id="crm_appointments_list",
        parameters=[AppointmentListQuery],
        responses={200: AppointmentSerializer(many=True)},
        tags=["crm"],
    )
    def get(self, request):
        return _appointment_list_response(request)

    @extend_schema(
        operation_id="crm_appointments_create",
        request=AppointmentWriteSerializer,
        responses={201: AppointmentSerializer},
        tags=["crm"],
    )
    def post(self, request):
        serializer = AppointmentWriteSerializer(data=request.data, context={"business": request.tenant})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = _customer_or_404(data.pop("customer_id"))
        start = data.pop("start")
        end = data.pop("end", None) or start + timedelta(minutes=data.pop("duration_min", 60))
        data.pop("duration_min", None)
        appointment = services.appointment_book(
            customer=customer, start=start, end=end, source=Appointment.Source.API, **data
        )
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


class CrmAppointmentDetailApi(Seed002APIView):
    def get_permissions(self):
        return [requires("appointments:write")()] if self.request.method == "PATCH" else [CanReadAppointments()]

    def _appointment(self, appointment_id) -> Appointment:
        appointment = selectors.appointment_get(appointment_id=appointment_id)
        if appointment is None:
            raise exceptions.NotFound("Appointment not found.")
        return appointment

    @extend_schema(
        operation_id="crm_appointments_get",
        parameters=[APPOINTMENT_ID],
        responses={200: AppointmentSerializer},
        tags=["crm"],
    )
    def get(self, request, appointment_id):
        return Response(AppointmentSerializer(self._appointment(appointment_id)).data)

    @extend_schema(
        operation_id="crm_appointments_update",
        parameters=[APPOINTMENT_ID],
        request=AppointmentWriteSerializer(partial=True),
        responses={200: AppointmentSerializer},
        tags=["crm"],
    )
    def patch(self, request, appointment_id):
        appointment = self._appointment(appointment_id)
        serializer = AppointmentWriteSerializer(data=request.data, partial=True, context={"business": request.tenant})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "customer_id" in data:
            raise exceptions.ValidationError({"customer_id": "An appointment cannot move to another customer."})
        start = data.pop("start", None)
        end = data.pop("end", None)
        if start is None and end is not None and end <= appointment.start:
            raise exceptions.ValidationError({"end": "The end must be after the start."})
        appointment = services.appointment_update(
            appointment=appointment,
            starts_at=start,
            ends_at=end,
            duration_min=data.pop("duration_min", None),
            status=data.pop("status", None),
            moved_by=Reschedule.MovedBy.CRM_API,
            actor_id=getattr(request.user, "pk", None),
            **data,
        )
        return Response(AppointmentSerializer(appointment).data)


class CustomerAppointmentsApi(Seed002APIView):
    permission_classes = [CanReadAppointments]

    @extend_schema(
        operation_id="crm_customer_appointments",
        parameters=[CUSTOMER_ID, AppointmentListQuery],
        responses={200: AppointmentSerializer(many=True)},
        tags=["crm"],
    )
    def get(self, request, customer_id):
        customer = _customer_or_404(customer_id)
        return _appointment_list_response(request, customer_id=customer.pk)


class CustomerTimelineApi(Seed002APIView):
    permission_classes = [requires("customers:write")]

    class TimelineQuery(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
        cursor = serializers.CharField(required=False, max_length=200, help_text="next_cursor of the previous page.")

        def validate_cursor(self, value):
            cursor = TimelineCursor.decode(value)
            if cursor is None:
                raise serializers.ValidationError("Not a cursor this API gave out.")
            return cursor

    @extend_schema(
        operation_id="crm_customer_timeline",
        parameters=[CUSTOMER_ID, TimelineQuery],
        responses={
            200: inline_serializer(
                "CustomerTimeline",
                {
                    "customer_id": serializers.UUIDField(),
                    "items": inline_serializer(
                        "TimelineItem",
                        {
                            "kind": serializers.ChoiceField(
                                choices=["appointment", "call", "conversation", "message", "reschedule"]
                            ),
                            "id": serializers.UUIDField(),
                            "at": serializers.DateTimeField(),
                            "data": serializers.DictField(),
                        },
                        many=True,
                    ),
                    "next_cursor": serializers.CharField(allow_null=True),
                },
            )
        },
        tags=["crm"],
    )
    def get(self, request, customer_id):
        customer = _customer_or_404(customer_id)
        params = _query(self.TimelineQuery, request)
        items, next_cursor = selectors.customer_timeline(
            customer=customer, limit=params["limit"], cursor=params.get("cursor")
        )
        for item in items:
            if item.kind == "appointment":
                item.data["status"] = TO_SEED.get(item.data["status"], item.data["status"])
        return Response(
            {
                "customer_id": str(customer.pk),
                "items": [{"kind": i.kind, "id": i.id, "at": i.at.isoformat(), "data": i.data} for i in items],
                "next_cursor": next_cursor.encode() if next_cursor else None,
            }
        )
