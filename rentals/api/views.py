from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency.keys import idempotent
from api.permissions import IsMember
from api.schema import LIST, READ, WRITE, errors
from billing.models import CreditNote
from rentals import lifecycle
from rentals.api import serializers
from rentals.models import Rental


def rentals_of(request: Request) -> QuerySet[Rental]:
    """The member's own rentals, with what their representation reads."""
    return (
        Rental.objects.filter(member=request.user.member)
        .select_related("vehicle", "tariff__zone", "invoice__stored")
        .prefetch_related(
            "parked_intervals",
            "invoice__lines",
            Prefetch(
                "invoice__credit_notes",
                queryset=CreditNote.objects.select_related("invoice", "stored"),
            ),
        )
    )


class QuoteCreate(APIView):
    permission_classes = [IsMember]

    @extend_schema(
        request=serializers.QuoteRequestSerializer,
        responses={200: serializers.QuoteSerializer, **errors(*WRITE)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(serializers.QuoteRequestSerializer, request)
        quote = lifecycle.quote_rental(
            member=request.user.member,
            plate=data["vehicle"],
            started_at=data.get("started_at"),
            ended_at=data.get("ended_at"),
            now=timezone.now(),
            parked=[
                lifecycle.QuotedPause(paused_at=pause["from"], resumed_at=pause["to"])
                for pause in data.get("parked", [])
            ],
            distance_km=data.get("distance_km"),
        )
        return Response(serializers.QuoteSerializer(quote).data)


@extend_schema_view(
    get=extend_schema(responses={200: serializers.RentalSerializer(many=True), **errors(*LIST)})
)
class RentalList(generics.ListAPIView):
    permission_classes = [IsMember]
    serializer_class = serializers.RentalSerializer

    def get_queryset(self) -> QuerySet[Rental]:
        if getattr(self, "swagger_fake_view", False):
            return Rental.objects.none()
        return rentals_of(self.request)

    @extend_schema(
        request=serializers.StartRequestSerializer,
        responses={201: serializers.RentalSerializer, **errors(*WRITE)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(serializers.StartRequestSerializer, request)
        rental = lifecycle.start_rental(
            member=request.user.member,
            plate=data["vehicle"],
            started_at=data.get("started_at"),
            now=timezone.now(),
        )
        return Response(
            serializers.RentalSerializer(rental).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(responses={200: serializers.RentalSerializer, **errors(*READ)})
)
class RentalDetail(generics.RetrieveAPIView):
    permission_classes = [IsMember]
    serializer_class = serializers.RentalSerializer

    def get_queryset(self) -> QuerySet[Rental]:
        if getattr(self, "swagger_fake_view", False):
            return Rental.objects.none()
        return rentals_of(self.request)


class RentalEnd(APIView):
    permission_classes = [IsMember]

    @extend_schema(
        request=serializers.EndRequestSerializer,
        responses={200: serializers.RentalSerializer, **errors(*WRITE, 404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(serializers.EndRequestSerializer, request)
        rental = lifecycle.end_rental(
            member=request.user.member,
            rental_id=pk,
            ended_at=data.get("ended_at"),
            now=timezone.now(),
            distance_km=data.get("distance_km"),
        )
        return Response(serializers.RentalSerializer(rental).data)


class RentalPause(APIView):
    """Park the member's open rental (a parked minute costs the tariff's parked rate)."""

    permission_classes = [IsMember]

    @extend_schema(
        request=serializers.EventRequestSerializer,
        responses={200: serializers.RentalSerializer, **errors(*WRITE, 404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(serializers.EventRequestSerializer, request)
        rental = lifecycle.pause_rental(
            member=request.user.member, rental_id=pk, at=data.get("at"), now=timezone.now()
        )
        return Response(serializers.RentalSerializer(rental).data)


class RentalResume(APIView):
    """Drive on after a pause."""

    permission_classes = [IsMember]

    @extend_schema(
        request=serializers.EventRequestSerializer,
        responses={200: serializers.RentalSerializer, **errors(*WRITE, 404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(serializers.EventRequestSerializer, request)
        rental = lifecycle.resume_rental(
            member=request.user.member, rental_id=pk, at=data.get("at"), now=timezone.now()
        )
        return Response(serializers.RentalSerializer(rental).data)


def _valid(serializer_class: type, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
