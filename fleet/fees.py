"""The fee catalogue of a zone: publish a fee, find the one in force, say how VAT treats it.

A fee is what an operator charges besides minutes (cleaning, a late return by the hour, an
out-of-zone drop-off) or a cost it paid for the member and passes through (a fine, a toll),
which is outside the scope of VAT when paid in the member's name while a handling fee is
not. Fees are versioned like tariffs, by ``valid_from``, and never edited once charged.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing import charges, money
from core import transactions
from core.errors import ConflictError, DomainError
from core.localtime import utc_iso
from fleet.models import Fee, Zone


class InvalidFee(DomainError):
    """A fee's price, unit, cap or VAT treatment is not usable; ``details["field"]`` names it."""

    code = "invalid_fee"


class FeeExists(ConflictError):
    """A version of the fee already starts at that instant in the zone."""

    code = "fee_exists"


class UnknownFee(DomainError):
    """No fee of the zone's catalogue has that code at that instant."""

    code = "unknown_fee"


@transactions.use_case
def publish_fee(
    *,
    zone: Zone,
    code: str,
    label: str,
    valid_from: datetime,
    now: datetime,
    unit_price: Decimal | None = None,
    unit: str = "unit",
    pass_through: bool = False,
    vat: str = Fee.Vat.ZONE,
    vat_rate: Decimal | None = None,
    vat_exemption: str = "",
    cap_per_occurrence: Decimal | None = None,
) -> Fee:
    """Add a fee (or a new version of one) to ``zone``'s catalogue from ``valid_from``.

    ``vat`` is ``ZONE`` (the zone's rate when charged), ``RATE`` (``vat_rate``) or
    ``OUT_OF_SCOPE`` (``vat_exemption`` gives the legal reason printed on the invoice). A
    pass-through fee has no unit price and no cap: each charge gives its amount.

    Raises:
        InvalidFee: a price, cap, unit or VAT treatment that does not fit.
        FeeExists: a version of this fee already starts at ``valid_from``.
    """
    _check(
        zone=zone,
        unit_price=unit_price,
        unit=unit,
        pass_through=pass_through,
        vat=vat,
        vat_rate=vat_rate,
        vat_exemption=vat_exemption,
        cap_per_occurrence=cap_per_occurrence,
    )
    exists = FeeExists(
        f"A version of fee {code!r} of {zone.code} already starts at {utc_iso(valid_from)}.",
        field="valid_from",
    )
    if Fee.objects.filter(zone=zone, code=code, valid_from=valid_from).exists():
        raise exists
    try:
        with transaction.atomic():  # a savepoint: the same fee published concurrently
            return Fee.objects.create(
                zone=zone,
                code=code,
                label=label,
                unit=unit,
                unit_price=unit_price,
                pass_through=pass_through,
                vat=vat,
                vat_rate=vat_rate,
                vat_exemption=vat_exemption.strip(),
                cap_per_occurrence=cap_per_occurrence,
                valid_from=valid_from,
                created_at=now,
            )
    except IntegrityError as exc:
        raise exists from exc


def fee_in_force(*, zone: Zone, code: str, at: datetime) -> Fee:
    """Return the version of fee ``code`` of ``zone`` in force at ``at`` (latest ``valid_from``).

    Raises:
        UnknownFee: the zone's catalogue has no such fee at that instant.
    """
    fee = (
        Fee.objects.filter(zone=zone, code=code, valid_from__lte=at).order_by("-valid_from").first()
    )
    if fee is None:
        raise UnknownFee(
            f"The catalogue of {zone.code} has no fee {code!r} at {utc_iso(at)}.",
            field="fee",
            zone=zone.code,
            fee=code,
        )
    return fee


def vat_of(fee: Fee) -> tuple[Decimal | None, str]:
    """Return the VAT rate of a charge of ``fee`` now, or ``None`` and the legal reason."""
    if fee.vat == Fee.Vat.OUT_OF_SCOPE:
        return None, fee.vat_exemption
    if fee.vat == Fee.Vat.RATE:
        return fee.vat_rate, ""
    return fee.zone.vat_rate, ""


def _check(
    *,
    zone: Zone,
    unit_price: Decimal | None,
    unit: str,
    pass_through: bool,
    vat: str,
    vat_rate: Decimal | None,
    vat_exemption: str,
    cap_per_occurrence: Decimal | None,
) -> None:
    if unit not in charges.UNITS:
        raise InvalidFee(f"Unknown unit {unit!r}: one of {', '.join(charges.UNITS)}.", field="unit")
    if pass_through:
        if unit_price is not None or cap_per_occurrence is not None:
            raise InvalidFee(
                "A pass-through fee has no unit price and no cap: each charge gives its amount.",
                field="unit_price" if unit_price is not None else "cap_per_occurrence",
            )
    elif unit_price is None:
        raise InvalidFee("A fee needs its unit price (or pass_through).", field="unit_price")
    for name, amount in (("unit_price", unit_price), ("cap_per_occurrence", cap_per_occurrence)):
        if amount is None:
            continue
        if amount < 0 or money.round_money(amount, zone.currency) != amount:
            raise InvalidFee(
                f"{name} must be at least 0 with at most {money.minor_unit(zone.currency)} "
                f"decimals for {zone.currency}.",
                field=name,
            )
    if vat not in Fee.Vat.values:
        raise InvalidFee(f"vat must be one of {', '.join(Fee.Vat.values)}.", field="vat")
    if (vat == Fee.Vat.RATE) != (vat_rate is not None):
        raise InvalidFee("A vat_rate goes with vat RATE, and only with it.", field="vat_rate")
    if vat_rate is not None and not Decimal(0) <= vat_rate < 1:
        raise InvalidFee("vat_rate must be at least 0 and below 1.", field="vat_rate")
    if (vat == Fee.Vat.OUT_OF_SCOPE) != bool(vat_exemption.strip()):
        raise InvalidFee(
            "A fee outside the scope of VAT needs its legal reason (vat_exemption), and only it.",
            field="vat_exemption",
        )
