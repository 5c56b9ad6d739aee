"""Webhook endpoints and deliveries as finance sees them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.fields import InstantField, StrictSerializer
from webhooks.models import EVENT_TYPES, Delivery, Endpoint


class EndpointCreateSerializer(StrictSerializer):
    url = serializers.CharField(max_length=2000, help_text="https; a public address")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[name for name, _ in EVENT_TYPES]),
        allow_empty=False,
        max_length=len(EVENT_TYPES),
    )
    secret = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        help_text="'whsec_' + base64 (at least 24 bytes); blank: one is made for you",
    )
    description = serializers.CharField(max_length=200, required=False, default="")


class EndpointSerializer(serializers.ModelSerializer):
    created_at = InstantField(read_only=True)

    class Meta:
        model = Endpoint
        fields = ["id", "url", "events", "description", "is_active", "created_at"]


class EndpointWithSecretSerializer(EndpointSerializer):
    """The endpoint as created: the only answer that shows its signing secret."""

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type")
    occurred_at = InstantField(source="event.occurred_at", read_only=True)
    last_attempt_at = InstantField(read_only=True, allow_null=True)
    delivered_at = InstantField(read_only=True, allow_null=True)
    created_at = InstantField(read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "event", "event_type", "occurred_at", "endpoint", "status", "attempts",
            "last_attempt_at", "last_status_code", "last_error", "delivered_at", "created_at",
        ]  # fmt: skip

    def to_representation(self, instance: Delivery) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["data"] = instance.event.data
        return data


class ResendSerializer(StrictSerializer):
    """No fields: the delivery to send again is in the path."""
