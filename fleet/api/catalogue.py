"""The fee catalogue, passes and subscriptions as the API shows them (finance and members)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.converters import MAX_ID
from api.fields import InstantField, MoneyField, StrictSerializer
from api.schema import local_instant, utc_instant
from billing import charges, money
from billing.models import Invoice
from core import roles
from core.localtime import local_iso, utc_iso
from fleet import pass_runs, periods
from fleet.models import Fee, PassProduct, Subscription, Zone

_VAT_IN = {"zone": Fee.Vat.ZONE, "rate": Fee.Vat.RATE, "out_of_scope": Fee.Vat.OUT_OF_SCOPE}
_VAT_OUT = {stored: shown for shown, stored in _VAT_IN.items()}


def _amount(value: Any, currency: str) -> str | None:
    return None if value is None else money.format_rate(value, currency)


class FeeSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    zone = serializers.SlugRelatedField(slug_field="code", queryset=Zone.objects.all())
    code = serializers.SlugField(max_length=40)
    label = serializers.CharField(max_length=120)
    unit = serializers.ChoiceField(choices=sorted(charges.UNITS), required=False)
    unit_price = MoneyField(
        required=False, allow_null=True, help_text="VAT included; null for a pass-through fee"
    )
    pass_through = serializers.BooleanField(
        required=False, help_text="a cost paid for the member: each charge gives its amount"
    )
    vat = serializers.ChoiceField(
        choices=sorted(_VAT_IN),
        required=False,
        help_text="zone: the zone's rate when charged; rate: vat_rate; out_of_scope: outside"
        " the scope of VAT, with its legal reason in vat_exemption",
    )
    vat_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=0, required=False, allow_null=True
    )
    vat_exemption = serializers.CharField(max_length=200, required=False, allow_blank=True)
    cap_per_occurrence = MoneyField(
        required=False, allow_null=True, help_text="at most this per occurrence (VAT included)"
    )
    valid_from = InstantField()
    valid_from_local = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    created_at = InstantField(read_only=True)

    def validate_valid_from(self, value: Any) -> Any:
        if value.tzinfo is None:
            raise serializers.ValidationError("Give valid_from with an offset, e.g. +01:00.")
        return value

    def validate_vat(self, value: str) -> str:
        return _VAT_IN[value]

    def to_representation(self, fee: Fee) -> dict[str, Any]:
        currency = fee.zone.currency
        return {
            "id": fee.pk,
            "zone": fee.zone.code,
            "code": fee.code,
            "label": fee.label,
            "unit": fee.unit,
            "unit_price": _amount(fee.unit_price, currency),
            "pass_through": fee.pass_through,
            "vat": _VAT_OUT[fee.vat],
            "vat_rate": None if fee.vat_rate is None else money.format_vat_rate(fee.vat_rate),
            "vat_exemption": fee.vat_exemption,
            "cap_per_occurrence": _amount(fee.cap_per_occurrence, currency),
            "valid_from": utc_iso(fee.valid_from),
            "valid_from_local": local_iso(fee.valid_from, fee.zone.time_zone),
            "currency": currency,
            "created_at": utc_iso(fee.created_at),
        }


class PassSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    zone = serializers.SlugRelatedField(slug_field="code", queryset=Zone.objects.all())
    code = serializers.SlugField(max_length=40)
    label = serializers.CharField(max_length=120)
    monthly_price = MoneyField(help_text="VAT included, at the zone's rate")
    plan = serializers.SlugField(max_length=40, help_text="the tariff plan the pass gives")
    on_sale = serializers.BooleanField(read_only=True)
    currency = serializers.CharField(read_only=True)
    created_at = InstantField(read_only=True)

    def to_representation(self, product: PassProduct) -> dict[str, Any]:
        return {
            "id": product.pk,
            "zone": product.zone.code,
            "code": product.code,
            "label": product.label,
            "monthly_price": money.format_amount(product.monthly_price, product.zone.currency),
            "plan": product.plan,
            "on_sale": product.on_sale,
            "currency": product.zone.currency,
            "created_at": utc_iso(product.created_at),
        }


class SubscribeSerializer(StrictSerializer):
    zone = serializers.SlugRelatedField(slug_field="code", queryset=Zone.objects.all())
    product = serializers.SlugField(max_length=40, help_text="the pass's code in the zone")
    start_date = serializers.DateField(
        help_text="the first day, in the zone's calendar (today or later)"
    )
    member = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="finance: the member's id; a member: omitted",
    )


class CancelSerializer(StrictSerializer):
    """When the cancellation takes effect: at the end of the period already billed."""

    effective = serializers.ChoiceField(
        choices=["period_end"],
        required=False,
        help_text="period_end (the only choice, and the default): passes are not prorated",
    )


class PeriodSerializer(serializers.Serializer):
    period = serializers.IntegerField(help_text="1 for the first")
    starts_at = utc_instant()
    starts_at_local = local_instant()
    ends_at = utc_instant(help_text="UTC, with Z; excluded")
    ends_at_local = local_instant()
    first_date = serializers.DateField()
    last_date = serializers.DateField()
    invoice = serializers.CharField(allow_null=True, help_text="its invoice's number, once billed")


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField(help_text="id of the member")
    zone = serializers.CharField()
    product = serializers.CharField()
    label = serializers.CharField()
    plan = serializers.CharField()
    monthly_price = serializers.CharField()
    currency = serializers.CharField()
    start_date = serializers.DateField()
    started_at = utc_instant()
    started_at_local = local_instant()
    ends_at = utc_instant(
        allow_null=True, help_text="UTC, with Z; set once cancelled: a period end"
    )
    ends_at_local = local_instant(allow_null=True)
    cancelled_at = utc_instant(allow_null=True)
    periods = PeriodSerializer(many=True, help_text="billed periods, then the next one")

    def to_representation(self, subscription: Subscription) -> dict[str, Any]:
        product = subscription.product
        zone = product.zone
        time_zone = zone.time_zone
        invoices = self.context.get("invoices")
        if invoices is None:
            invoices = invoice_numbers([subscription])
        shown = [
            (periods.period(anchor=subscription.start_date, index=row.index, time_zone=time_zone),
             invoices.get(row.pk))
            for row in sorted(subscription.periods.all(), key=lambda row: row.index)
        ]  # fmt: skip
        upcoming = periods.period(
            anchor=subscription.start_date,
            index=subscription.next_period_index,
            time_zone=time_zone,
        )
        if subscription.ends_at is None or upcoming.starts_at < subscription.ends_at:
            shown.append((upcoming, None))
        return {
            "id": subscription.pk,
            "member": subscription.member.user_id,
            "zone": zone.code,
            "product": product.code,
            "label": product.label,
            "plan": product.plan,
            "monthly_price": money.format_amount(product.monthly_price, zone.currency),
            "currency": zone.currency,
            "start_date": subscription.start_date.isoformat(),
            "started_at": utc_iso(subscription.started_at),
            "started_at_local": local_iso(subscription.started_at, time_zone),
            "ends_at": _instant(subscription.ends_at),
            "ends_at_local": None
            if subscription.ends_at is None
            else local_iso(subscription.ends_at, time_zone),
            "cancelled_at": _instant(subscription.cancelled_at),
            "periods": [
                {
                    "period": period.index + 1,
                    "starts_at": utc_iso(period.starts_at),
                    "starts_at_local": local_iso(period.starts_at, time_zone),
                    "ends_at": utc_iso(period.ends_at),
                    "ends_at_local": local_iso(period.ends_at, time_zone),
                    "first_date": period.first_date.isoformat(),
                    "last_date": period.last_date.isoformat(),
                    "invoice": number,
                }
                for period, number in shown
            ],
        }


def invoice_numbers(subscriptions: list[Subscription]) -> dict[int, str]:
    """Return the invoice number of each billed period of ``subscriptions``, by period id."""
    ids = [row.pk for subscription in subscriptions for row in subscription.periods.all()]
    found = Invoice.objects.filter(subject_kind=pass_runs.SUBJECT_KIND, subject_id__in=ids)
    return dict(found.values_list("subject_id", "number"))


def _instant(value: Any) -> str | None:
    return None if value is None else utc_iso(value)


def is_finance(user: Any) -> bool:
    """Return whether ``user`` acts for finance (may subscribe and cancel for any member)."""
    return roles.has_role(user, roles.FINANCE)
