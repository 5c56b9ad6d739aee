from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency.keys import idempotent
from api.permissions import IsFleet
from api.schema import LIST, READ, WRITE, errors
from fleet import members, tariffs, vehicles, zones
from fleet.api import filters, serializers
from fleet.models import Member, Tariff, Vehicle, Zone


@extend_schema_view(
    get=extend_schema(responses={200: serializers.ZoneSerializer(many=True), **errors(*LIST)}),
    post=extend_schema(responses={201: serializers.ZoneSerializer, **errors(*WRITE)}),
)
class ZoneList(generics.ListCreateAPIView):
    permission_classes = [IsFleet]
    serializer_class = serializers.ZoneSerializer
    queryset = Zone.objects.all()

    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        zone = zones.create_zone(**serializer.validated_data, now=timezone.now())
        return Response(self.get_serializer(zone).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(responses={200: serializers.ZoneSerializer, **errors(*READ)}))
class ZoneDetail(generics.RetrieveAPIView):
    permission_classes = [IsFleet]
    serializer_class = serializers.ZoneSerializer
    queryset = Zone.objects.all()
    lookup_field = "code"


@extend_schema_view(
    get=extend_schema(responses={200: serializers.VehicleSerializer(many=True), **errors(*LIST)}),
    post=extend_schema(responses={201: serializers.VehicleSerializer, **errors(*WRITE)}),
)
class VehicleList(generics.ListCreateAPIView):
    permission_classes = [IsFleet]
    serializer_class = serializers.VehicleSerializer
    queryset = Vehicle.objects.select_related("zone")
    filterset_class = filters.VehicleFilter

    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vehicle = vehicles.register_vehicle(**serializer.validated_data, now=timezone.now())
        return Response(self.get_serializer(vehicle).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(responses={200: serializers.VehicleSerializer, **errors(*READ)})
)
class VehicleDetail(generics.RetrieveAPIView):
    permission_classes = [IsFleet]
    serializer_class = serializers.VehicleSerializer
    queryset = Vehicle.objects.select_related("zone")
    lookup_field = "plate"


@extend_schema_view(
    get=extend_schema(responses={200: serializers.TariffSerializer(many=True), **errors(*LIST)}),
    post=extend_schema(responses={201: serializers.TariffSerializer, **errors(*WRITE)}),
)
class TariffList(generics.ListCreateAPIView):
    permission_classes = [IsFleet]
    serializer_class = serializers.TariffSerializer
    queryset = Tariff.objects.select_related("zone").prefetch_related("bands")
    filterset_class = filters.TariffFilter

    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        tariff = tariffs.publish_tariff(
            zone=data["zone"],
            plan=data["plan"],
            valid_from=data["valid_from"],
            bands=[(band["starts_at"], band["per_minute"]) for band in data["bands"]],
            unlock_fee=data["unlock_fee"],
            minimum_minutes=data["minimum_minutes"],
            daily_cap=data["daily_cap"],
            park_per_minute=data.get("park_per_minute"),
            per_km=data.get("per_km", Decimal(0)),
            included_km=data.get("included_km", 0),
            now=timezone.now(),
        )
        return Response(self.get_serializer(tariff).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(responses={200: serializers.TariffSerializer, **errors(*READ)})
)
class TariffDetail(generics.RetrieveAPIView):
    permission_classes = [IsFleet]
    serializer_class = serializers.TariffSerializer
    queryset = Tariff.objects.select_related("zone").prefetch_related("bands")


@extend_schema_view(
    get=extend_schema(responses={200: serializers.MemberSerializer(many=True), **errors(*LIST)})
)
class MemberList(generics.ListCreateAPIView):
    permission_classes = [IsFleet]
    queryset = Member.objects.select_related("user")

    def get_serializer_class(self) -> type:
        if self.request.method == "POST":
            return serializers.MemberCreateSerializer
        return serializers.MemberSerializer

    @extend_schema(
        request=serializers.MemberCreateSerializer,
        responses={201: serializers.MemberSerializer, **errors(*WRITE)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = serializers.MemberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = members.register_member(**serializer.validated_data, now=timezone.now())
        return Response(serializers.MemberSerializer(member).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(responses={200: serializers.MemberSerializer, **errors(*READ)})
)
class MemberDetail(generics.RetrieveAPIView):
    permission_classes = [IsFleet]
    serializer_class = serializers.MemberSerializer
    queryset = Member.objects.select_related("user")
    # A member's id is its account's: the ``member`` of its invoices.
    lookup_field = "user_id"
    lookup_url_kwarg = "pk"
