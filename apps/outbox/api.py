"""The outbox's API (seed-000 envelope): a business's deliveries with their attempts, retrying a
dead letter, and its outgoing webhook endpoints."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.outbox import selectors, services
from apps.outbox.serializers import (
    DeliveryDetailOutputSerializer,
    DeliveryFilterSerializer,
    DeliveryOutputSerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointOutputSerializer,
)
from nevermisscall.pagination import PageLimitPagination
from nevermisscall.permissions import requires

TAGS = ["deliveries"]


def _delivery_or_404(request, delivery_id):
    delivery = selectors.delivery_get(business=request.tenant, delivery_id=delivery_id)
    if delivery is None:
        raise exceptions.NotFound()
    return delivery


def _endpoint_or_404(request, endpoint_id):
    endpoint = selectors.webhook_endpoint_get(business=request.tenant, endpoint_id=endpoint_id)
    if endpoint is None:
        raise exceptions.NotFound()
    return endpoint


class DeliveryListApi(APIView):
    permission_classes = [requires("deliveries:read")]

    @extend_schema(
        parameters=[DeliveryFilterSerializer], responses={200: DeliveryOutputSerializer(many=True)}, tags=TAGS
    )
    def get(self, request):
        """Everything this business sent or will send: texts, e-mails, webhooks, newest first."""
        filters = DeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.delivery_list(business=request.tenant, filters=filters.validated_data)
        paginator = PageLimitPagination()
        page = paginator.paginate_queryset(queryset, request, self)
        return paginator.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)


class DeliveryDetailApi(APIView):
    permission_classes = [requires("deliveries:read")]

    @extend_schema(responses={200: DeliveryDetailOutputSerializer}, tags=TAGS)
    def get(self, request, delivery_id):
        """One delivery with every attempt: when, the outcome and what the provider answered."""
        return Response(DeliveryDetailOutputSerializer(_delivery_or_404(request, delivery_id)).data)


class DeliveryRetryApi(APIView):
    permission_classes = [requires("deliveries:manage")]

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer}, tags=TAGS)
    def post(self, request, delivery_id):
        """Send a failed or dead delivery again, with the same idempotency key (422 otherwise)."""
        delivery = services.delivery_retry(delivery=_delivery_or_404(request, delivery_id))
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookEndpointListApi(APIView):
    permission_classes = [requires("deliveries:manage")]

    @extend_schema(responses={200: WebhookEndpointOutputSerializer(many=True)}, tags=TAGS)
    def get(self, request):
        queryset = selectors.webhook_endpoint_list(business=request.tenant)
        paginator = PageLimitPagination()
        page = paginator.paginate_queryset(queryset, request, self)
        return paginator.get_paginated_response(WebhookEndpointOutputSerializer(page, many=True).data)

    @extend_schema(request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointCreatedSerializer}, tags=TAGS)
    def post(self, request):
        """A new endpoint; the response carries its signing secret, shown this once."""
        serializer = WebhookEndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint, secret = services.webhook_endpoint_create(
            business=request.tenant,
            url=data["url"],
            description=data["description"],
            event_types=data["event_types"],
            user=request.user if isinstance(request.user, get_user_model()) else None,
        )
        body = WebhookEndpointOutputSerializer(endpoint).data
        return Response({**body, "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(APIView):
    permission_classes = [requires("deliveries:manage")]

    @extend_schema(responses={200: WebhookEndpointOutputSerializer}, tags=TAGS)
    def get(self, request, endpoint_id):
        return Response(WebhookEndpointOutputSerializer(_endpoint_or_404(request, endpoint_id)).data)

    @extend_schema(request=WebhookEndpointInputSerializer, responses={200: WebhookEndpointOutputSerializer}, tags=TAGS)
    def patch(self, request, endpoint_id):
        endpoint = _endpoint_or_404(request, endpoint_id)
        serializer = WebhookEndpointInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, data=serializer.validated_data)
        return Response(WebhookEndpointOutputSerializer(endpoint).data)

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request, endpoint_id):
        services.webhook_endpoint_delete(endpoint=_endpoint_or_404(request, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretApi(APIView):
    permission_classes = [requires("deliveries:manage")]

    @extend_schema(request=None, responses={200: WebhookEndpointCreatedSerializer}, tags=TAGS)
    def post(self, request, endpoint_id):
        """A new signing secret, at once (the old one stops signing); shown this once."""
        endpoint = _endpoint_or_404(request, endpoint_id)
        secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint)
        return Response({**WebhookEndpointOutputSerializer(endpoint).data, "secret": secret})


class WebhookEndpointTestApi(APIView):
    permission_classes = [requires("deliveries:manage")]

    @extend_schema(
        request=None,
        responses={202: DeliveryOutputSerializer},
        tags=TAGS,
        parameters=[OpenApiParameter("endpoint_id", str, OpenApiParameter.PATH)],
    )
    def post(self, request, endpoint_id):
        """Queue a signed ``webhook.test`` event to this endpoint (a delivery like any other)."""
        delivery = services.webhook_endpoint_test(endpoint=_endpoint_or_404(request, endpoint_id))
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
