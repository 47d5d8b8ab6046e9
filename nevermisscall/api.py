"""Base views shared by the apps' APIs."""

from rest_framework.views import APIView


class PublicAPIView(APIView):
    """A view that reads no credential of its own (login, refresh, registration, service-key calls).

    DRF answers authentication failures of such views with 403 because they name no auth scheme;
    naming Bearer keeps them at 401 as the seed documents.
    """

    authentication_classes: list = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'
