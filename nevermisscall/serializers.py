"""Serializer helpers shared by the apps' APIs."""

from rest_framework import serializers


class StrictFieldsMixin:
    """Refuse keys the serializer does not define, naming them (a setting the API cannot store is
    a 400, never silently dropped). Read-only fields are accepted and ignored, so a client may send
    back what it read."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass
