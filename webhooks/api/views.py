from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency.keys import idempotent
from api.permissions import IsFinance
from api.schema import LIST, READ, WRITE, errors
from webhooks import endpoints
from webhooks.api import serializers
from webhooks.models import Delivery, Endpoint


@extend_schema_view(
    get=extend_schema(responses={200: serializers.EndpointSerializer(many=True), **errors(*LIST)})
)
class EndpointList(generics.ListAPIView):
    permission_classes = [IsFinance]
    serializer_class = serializers.EndpointSerializer
    queryset = Endpoint.objects.all()

    @extend_schema(
        request=serializers.EndpointCreateSerializer,
        responses={201: serializers.EndpointWithSecretSerializer, **errors(*WRITE)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        incoming = serializers.EndpointCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        endpoint = endpoints.register_endpoint(
            url=data["url"],
            event_types=data["events"],
            secret=data["secret"],
            description=data["description"],
            created_by_id=request.user.pk,
            now=timezone.now(),
        )
        return Response(
            serializers.EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    get=extend_schema(responses={200: serializers.EndpointSerializer, **errors(*READ)}),
    delete=extend_schema(
        description="Deactivate the endpoint (it is kept, with its deliveries).",
        responses={200: serializers.EndpointSerializer, **errors(*READ)},
    ),
)
class EndpointDetail(generics.RetrieveAPIView):
    permission_classes = [IsFinance]
    serializer_class = serializers.EndpointSerializer
    queryset = Endpoint.objects.all()

    def delete(self, request: Request, pk: int) -> Response:
        endpoint = endpoints.deactivate_endpoint(endpoint_id=pk)
        return Response(serializers.EndpointSerializer(endpoint).data)


class DeliveryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Delivery.Status.choices)
    endpoint = filters.NumberFilter(field_name="endpoint_id")
    event_type = filters.CharFilter(field_name="event__type")
    event = filters.CharFilter(field_name="event_id")

    class Meta:
        model = Delivery
        fields = ["status", "endpoint", "event_type", "event"]


def _deliveries() -> QuerySet[Delivery]:
    return Delivery.objects.select_related("event")


@extend_schema_view(
    get=extend_schema(responses={200: serializers.DeliverySerializer(many=True), **errors(*LIST)})
)
class DeliveryList(generics.ListAPIView):
    """Deliveries, newest first; ``?status=FAILED`` lists those that ran out of attempts."""

    permission_classes = [IsFinance]
    serializer_class = serializers.DeliverySerializer
    filterset_class = DeliveryFilter

    def get_queryset(self) -> QuerySet[Delivery]:
        return _deliveries()


@extend_schema_view(
    get=extend_schema(responses={200: serializers.DeliverySerializer, **errors(*READ)})
)
class DeliveryDetail(generics.RetrieveAPIView):
    permission_classes = [IsFinance]
    serializer_class = serializers.DeliverySerializer

    def get_queryset(self) -> QuerySet[Delivery]:
        return _deliveries()


class DeliveryResend(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        request=None,
        responses={202: serializers.DeliverySerializer, **errors(*WRITE, 404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        serializers.ResendSerializer(data=request.data).is_valid(raise_exception=True)
        delivery = endpoints.resend_delivery(delivery_id=pk)
        delivery = _deliveries().get(pk=delivery.pk)
        return Response(
            serializers.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
