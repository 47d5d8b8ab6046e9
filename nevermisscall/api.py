"""Base views shared by the apps' APIs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from nevermisscall.permissions import HasServiceKey


class PublicAPIView(APIView):
    """A view that reads no credential of its own (login, refresh, registration, service-key calls).

    DRF answers authentication failures of such views with 403 because they name no auth scheme;
    naming Bearer keeps them at 401 as the seed documents.
    """

    authentication_classes: list = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


@extend_schema(parameters=[OpenApiParameter("x-service-key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)])
class InternalAPIView(PublicAPIView):
    """``/internal/*``: operators and scripts, authenticated by the ``x-service-key`` header (seed 000)."""

    permission_classes = [HasServiceKey]
