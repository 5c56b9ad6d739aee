"""Charging a member (finance): ``/api/members/{id}/charges/``.

The body names one fee at its top level, or several under ``lines``, never both:

    {"fee": "cleaning", "rental": 17, "note": "Sand on the seats"}
    {"zone": "paris", "lines": [
        {"fee": "fine", "amount": "35.00", "external_reference": "Avis 7731"},
        {"fee": "fine-handling"}]}

Each line has ``fee`` (a code of the zone's catalogue), ``quantity`` (a decimal string,
default "1"), and for a pass-through fee the ``amount`` paid and its ``external_reference``.
The zone is the rental's when a rental is given; otherwise ``zone`` is required.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from api.converters import MAX_ID
from api.fields import MoneyField, StrictSerializer
from api.idempotency.keys import idempotent
from api.permissions import IsFinance
from api.schema import LIST, WRITE, errors, local_instant, utc_instant
from billing import money
from billing.api.serializers import InvoiceSerializer
from core.localtime import local_iso, utc_iso
from fleet.models import Member, Zone
from rentals import charges as member_charges
from rentals.models import MemberCharge

_QUANTITY: Final = re.compile(r"[0-9]+(?:\.[0-9]{1,4})?", re.ASCII)
_LINE_FIELDS: Final = ("fee", "quantity", "amount", "external_reference")
MAX_LINES: Final = 50


@extend_schema_field({"type": "string", "format": "decimal", "example": "1.5"})
class QuantityField(serializers.Field):
    """A positive quantity as a decimal string with at most four decimals ("1.5")."""

    default_error_messages = {
        "invalid": 'Send the quantity as a string with at most 4 decimals, e.g. "1.5".',
        "positive": "Must be more than 0.",
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or _QUANTITY.fullmatch(data) is None:
            self.fail("invalid")
        value = Decimal(data)
        if value <= 0:
            self.fail("positive")
        return value

    def to_representation(self, value: Decimal) -> str:
        return str(value.normalize()) if value == value.to_integral() else str(value)


@extend_schema_serializer(component_name="MemberChargeLine")
class ChargeLineRequestSerializer(StrictSerializer):
    fee = serializers.SlugField(max_length=40, help_text="a fee code of the zone's catalogue")
    quantity = QuantityField(required=False, help_text='omitted: "1"')
    amount = MoneyField(
        required=False, help_text="a pass-through fee only: the amount paid (VAT as the fee says)"
    )
    external_reference = serializers.CharField(
        required=False, max_length=60, help_text="a pass-through fee: e.g. the notice number"
    )


@extend_schema_serializer(component_name="MemberCharge")
class ChargeRequestSerializer(StrictSerializer):
    """One fee at the top level, or several under ``lines``: never both."""

    zone = serializers.SlugRelatedField(
        slug_field="code", queryset=Zone.objects.all(), required=False,
        help_text="omitted: the rental's zone",
    )  # fmt: skip
    rental = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="the member's rental"
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    fee = serializers.SlugField(required=False, max_length=40, help_text="one fee: its code")
    quantity = QuantityField(required=False)
    amount = MoneyField(required=False)
    external_reference = serializers.CharField(required=False, max_length=60)
    lines = ChargeLineRequestSerializer(
        many=True, required=False, min_length=1, max_length=MAX_LINES,
        help_text="several fees on one invoice, instead of fee at the top level",
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        top = {name: attrs.pop(name) for name in _LINE_FIELDS if name in attrs}
        if "lines" in attrs:
            if top:
                raise member_charges.AmbiguousCharge(
                    f"Give {', '.join(sorted(top))} inside each of lines, or one fee without"
                    " lines: not both.",
                    field="lines",
                )
            return attrs
        if "fee" not in top:
            raise member_charges.InvalidMemberCharge(
                "Name a fee (or several under lines).", field="fee"
            )
        attrs["lines"] = [top]
        return attrs


class ChargeLineSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    fee = serializers.CharField(allow_null=True)
    description = serializers.CharField()
    quantity = serializers.CharField()
    amount = serializers.CharField(allow_null=True, help_text="a pass-through fee's amount")
    external_reference = serializers.CharField(allow_blank=True)


class ChargeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField(help_text="id of the member")
    zone = serializers.CharField()
    rental = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    charged_at = utc_instant()
    charged_at_local = local_instant()
    lines = ChargeLineSerializer(many=True)
    invoice = InvoiceSerializer()

    def to_representation(self, charge: MemberCharge) -> dict[str, Any]:
        zone = charge.zone
        currency = zone.currency
        return {
            "id": charge.pk,
            "member": charge.member.user_id,
            "zone": zone.code,
            "rental": charge.rental_id,
            "note": charge.note,
            "charged_at": utc_iso(charge.charged_at),
            "charged_at_local": local_iso(charge.charged_at, zone.time_zone),
            "lines": [
                {
                    "position": line.position,
                    "fee": None if line.fee is None else line.fee.code,
                    "description": line.description,
                    "quantity": QuantityField().to_representation(line.quantity),
                    "amount": None
                    if line.amount is None
                    else money.format_amount(line.amount, currency),
                    "external_reference": line.external_reference,
                }
                for line in sorted(charge.lines.all(), key=lambda line: line.position)
            ],
            "invoice": InvoiceSerializer(charge.invoice).data,
        }


def charges_of(member: Member) -> QuerySet[MemberCharge]:
    """A member's charges, with what their representation reads."""
    return (
        MemberCharge.objects.filter(member=member)
        .select_related("zone", "member", "invoice")
        .prefetch_related("lines__fee", "invoice__lines", "invoice__credit_notes__invoice")
    )


class NewestChargedFirst(CursorPagination):
    ordering = ("-charged_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema_view(
    get=extend_schema(responses={200: ChargeSerializer(many=True), **errors(*LIST)})
)
class MemberChargeList(generics.ListAPIView):
    """A member's one-off charges (fees, costs passed through), each with its invoice."""

    permission_classes = [IsFinance]
    serializer_class = ChargeSerializer
    pagination_class = NewestChargedFirst

    def get_queryset(self) -> QuerySet[MemberCharge]:
        if getattr(self, "swagger_fake_view", False):
            return MemberCharge.objects.none()
        return charges_of(_member(self.kwargs["pk"]))

    @extend_schema(
        request=ChargeRequestSerializer,
        responses={201: ChargeSerializer, **errors(*WRITE, 404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        member = _member(pk)
        serializer = ChargeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        charge = member_charges.charge_member(
            member=member,
            zone=data.get("zone"),
            rental_id=data.get("rental"),
            note=data.get("note", ""),
            lines=[
                member_charges.CatalogueFee(
                    code=line["fee"],
                    quantity=line.get("quantity", Decimal(1)),
                    amount=line.get("amount"),
                    external_reference=line.get("external_reference", ""),
                )
                for line in data["lines"]
            ],
            charged_by_id=request.user.pk,
            now=timezone.now(),
            request_key=request.headers.get("Idempotency-Key", ""),
        )
        return Response(
            ChargeSerializer(charge).data,
            status=status.HTTP_201_CREATED,
        )


def _member(user_id: int) -> Member:
    # A member's id is its account's, as on invoices (GET /api/members/{id}/ alike).
    return get_object_or_404(Member.objects.select_related("user"), user_id=user_id)
