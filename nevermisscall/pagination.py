"""``page`` / ``limit`` pagination whose counts go into the envelope's metadata."""

from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response


class PageQuery(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


class PageLimitPagination(BasePagination):
    """Pages are 1-based; a page past the end is empty rather than an error."""

    def paginate_queryset(self, queryset, request, view=None):
        query = PageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        self.page = query.validated_data["page"]
        self.limit = query.validated_data["limit"]
        self.total_count = queryset.count()
        start = (self.page - 1) * self.limit
        return list(queryset[start : start + self.limit])

    def get_paginated_response(self, data):
        response = Response(data)
        response.envelope_metadata = {"total_count": self.total_count, "page": self.page, "limit": self.limit}
        return response

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "page", "required": False, "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        ]
