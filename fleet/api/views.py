from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency.keys import idempotent
from api.permissions import IsFinance, IsFleet, IsMemberOrFinance
from api.schema import LIST, READ, WRITE, errors
from fleet import fees, members, passes, tariffs, vehicles, zones
from fleet.api import catalogue, filters, serializers
from fleet.models import Fee, Member, PassProduct, Subscription, Tariff, Vehicle, Zone


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


@extend_schema_view(
    get=extend_schema(responses={200: catalogue.FeeSerializer(many=True), **errors(*LIST)}),
    post=extend_schema(responses={201: catalogue.FeeSerializer, **errors(*WRITE)}),
)
class FeeList(generics.ListCreateAPIView):
    """The fee catalogue of every zone, every version (finance publishes)."""

    permission_classes = [IsFinance]
    serializer_class = catalogue.FeeSerializer
    queryset = Fee.objects.select_related("zone")
    filterset_class = filters.FeeFilter

    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fee = fees.publish_fee(**serializer.validated_data, now=timezone.now())
        return Response(self.get_serializer(fee).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(responses={200: catalogue.FeeSerializer, **errors(*READ)}))
class FeeDetail(generics.RetrieveAPIView):
    permission_classes = [IsFinance]
    serializer_class = catalogue.FeeSerializer
    queryset = Fee.objects.select_related("zone")


@extend_schema_view(
    get=extend_schema(responses={200: catalogue.PassSerializer(many=True), **errors(*LIST)}),
    post=extend_schema(responses={201: catalogue.PassSerializer, **errors(*WRITE)}),
)
class PassList(generics.ListCreateAPIView):
    """Monthly passes: members and finance read them; finance puts one on sale."""

    serializer_class = catalogue.PassSerializer
    queryset = PassProduct.objects.select_related("zone")
    filterset_class = filters.PassFilter

    def get_permissions(self) -> list[Any]:
        allowed = IsFinance if self.request.method == "POST" else IsMemberOrFinance
        return [allowed()]

    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = passes.publish_pass(**serializer.validated_data, now=timezone.now())
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)


def subscriptions_of(request: Request) -> QuerySet[Subscription]:
    """The subscriptions the user may see: finance all, a member their own."""
    found = Subscription.objects.select_related("product__zone", "member").prefetch_related(
        "periods"
    )
    if catalogue.is_finance(request.user):
        return found
    return found.filter(member__user=request.user)


@extend_schema_view(
    get=extend_schema(responses={200: catalogue.SubscriptionSerializer(many=True), **errors(*LIST)})
)
class SubscriptionList(generics.ListAPIView):
    """Subscriptions to passes: a member's own, or all for finance; subscribe with POST."""

    permission_classes = [IsMemberOrFinance]
    serializer_class = catalogue.SubscriptionSerializer

    def get_queryset(self) -> QuerySet[Subscription]:
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return subscriptions_of(self.request)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("many") and args:
            # One query for the invoices of the whole page, not one per subscription.
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["invoices"] = catalogue.invoice_numbers(list(args[0]))
        return super().get_serializer(*args, **kwargs)

    @extend_schema(
        request=catalogue.SubscribeSerializer,
        responses={201: catalogue.SubscriptionSerializer, **errors(*WRITE)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = catalogue.SubscribeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = passes.subscribe(
            member=_subscriber(request, data.get("member")),
            product=passes.pass_of(zone=data["zone"], code=data["product"]),
            start_date=data["start_date"],
            subscribed_by_id=request.user.pk,
            now=timezone.now(),
            request_key=request.headers.get("Idempotency-Key", ""),
        )
        return Response(
            catalogue.SubscriptionSerializer(
                subscriptions_of(request).get(pk=subscription.pk)
            ).data,
            status=status.HTTP_201_CREATED,
        )


def _subscriber(request: Request, member_id: int | None) -> Member:
    """Return who subscribes: the member named by finance, or the member asking.

    Raises:
        passes.UnknownMember: finance named no member, or an unknown one.
        PermissionDenied: a member named someone else.
    """
    if catalogue.is_finance(request.user):
        if member_id is None and not hasattr(request.user, "member"):
            raise passes.UnknownMember("Name the member to subscribe.", field="member")
        if member_id is not None:
            member = Member.objects.filter(user_id=member_id).first()
            if member is None:
                raise passes.UnknownMember(f"No member {member_id}.", field="member")
            return member
        return request.user.member
    if member_id is not None and member_id != request.user.pk:
        raise PermissionDenied("A member subscribes only themselves.")
    return request.user.member


@extend_schema_view(
    get=extend_schema(responses={200: catalogue.SubscriptionSerializer, **errors(*READ)})
)
class SubscriptionDetail(generics.RetrieveAPIView):
    permission_classes = [IsMemberOrFinance]
    serializer_class = catalogue.SubscriptionSerializer

    def get_queryset(self) -> QuerySet[Subscription]:
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return subscriptions_of(self.request)


class SubscriptionCancel(APIView):
    """End a subscription at the end of its current period (its own, or any for finance)."""

    permission_classes = [IsMemberOrFinance]

    @extend_schema(
        request=catalogue.CancelSerializer,
        responses={200: catalogue.SubscriptionSerializer, **errors(*WRITE, 404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        catalogue.CancelSerializer(data=request.data).is_valid(raise_exception=True)
        subscription = passes.cancel_subscription(
            subscription_id=pk,
            now=timezone.now(),
            member=None if catalogue.is_finance(request.user) else request.user.member,
        )
        return Response(
            catalogue.SubscriptionSerializer(subscriptions_of(request).get(pk=subscription.pk)).data
        )
