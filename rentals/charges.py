"""Charge a member a one-off amount: a producer of charges like rentals, reusing billing as is.

A fee of the zone's catalogue (cleaning, a late return by the hour, capped per occurrence)
or a cost passed through (a toll, a fine, with its external reference) becomes one line of
an invoice issued at once in the zone's series, each line with its own VAT rate or the legal
reason it is outside the scope of VAT; several lines go on one invoice. Billing numbers,
chains, audits and exports it exactly as it does rental invoices: nothing here knows how.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing import charges, invoicing, money, numbering
from core import prefetch, transactions
from core.errors import ConflictError, DomainError
from fleet import fees, members
from fleet.models import Fee, Member, Zone
from rentals.models import MemberCharge, MemberChargeLine, Rental

SUBJECT_KIND = "member_charge"
FEE = "FEE"
PASSED_THROUGH = "PASSED_THROUGH"
_MAX_QUANTITY = Decimal(1_000_000)
_QUANTUM = Decimal("0.0001")  # quantities are stored with four decimals
_DESCRIPTION_MAX = 200  # as invoice lines store it


class InvalidMemberCharge(DomainError):
    """A charge without lines, or a line that is not a usable amount."""

    code = "invalid_charge"


class AmbiguousCharge(DomainError):
    """The charge could mean two things (a zone and a rental of another zone, an amount for a
    fee the catalogue prices): it is refused rather than guessed."""

    code = "ambiguous_charge"


class UnknownRental(DomainError):
    """The member has no rental with that id."""

    code = "unknown_rental"


class ChargeRequestReused(ConflictError):
    """The request key already charged the member something else."""

    code = "charge_request_reused"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeLine:
    """One charged line: ``quantity`` x ``unit_price`` (VAT included), with its VAT treatment.

    ``vat_rate=None`` means outside the scope of VAT (a cost passed through in the member's
    name), and then ``vat_exemption`` is the legal reason printed on the invoice. A ``cap``
    bounds the line's amount, whatever the quantity.
    """

    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal(1)
    vat_rate: Decimal | None
    vat_exemption: str = ""
    unit: str = "unit"
    cap: Decimal | None = None
    kind: str = FEE
    details: Mapping[str, charges.Detail] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueFee:
    """One line priced by the zone's fee catalogue: a fee's code and how much of it.

    A pass-through fee (a fine, a toll) takes the ``amount`` paid and its
    ``external_reference`` (the fine's notice number), for a quantity of 1; any other fee
    is priced by the catalogue and takes no amount.
    """

    code: str
    quantity: Decimal = Decimal(1)
    amount: Decimal | None = None
    external_reference: str = ""


@transactions.use_case
def charge_member(
    *,
    member: Member,
    lines: Sequence[FeeLine | CatalogueFee],
    charged_by_id: int,
    now: datetime,
    zone: Zone | None = None,
    rental_id: int | None = None,
    note: str = "",
    request_key: str = "",
) -> MemberCharge:
    """Record a one-off charge of ``member`` and issue its invoice in the zone's series.

    Catalogue lines are priced by the version of their fee in force at ``now``; a fee's cap
    bounds its line. ``rental_id`` names the member's rental the charge relates to; its zone
    bills the charge when ``zone`` is not given. A ``request_key`` already used by the same
    person returns that charge instead of charging again (a retried request whose first
    answer was lost).

    Raises:
        InvalidMemberCharge: no lines, no zone, or a line that is not a usable amount.
        AmbiguousCharge: a zone and a rental of another zone, an amount for a fee the
            catalogue prices, or a pass-through line without its amount or reference.
        UnknownRental: the member has no such rental.
        fees.UnknownFee: the zone's catalogue has no such fee now.
        ChargeRequestReused: the request key was used for another charge.
        charges.InvalidCharge: a line breaks the charge contract (e.g. no exemption reason).
    """
    rental = _rental_of(member, rental_id)
    zone = _zone_of(zone, rental)
    fingerprint = _fingerprint(zone=zone, rental_id=rental_id, note=note, lines=lines)
    if request_key:
        earlier = (
            MemberCharge.objects.select_related("invoice")
            .filter(charged_by_id=charged_by_id, request_key=request_key)
            .first()
        )
        if earlier is not None:
            asked = (earlier.fingerprint or fingerprint, earlier.member_id, earlier.zone_id)
            if asked != (fingerprint, member.pk, zone.pk) or earlier.note != note:
                raise ChargeRequestReused(
                    "This request key already charged something else.", charge=earlier.pk
                )
            return earlier
    priced = [_priced(line, zone, now) for line in _nonempty(lines)]
    local_date = now.astimezone(ZoneInfo(zone.time_zone)).date()
    charge = charges.Charge(
        currency=zone.currency,
        time_zone=zone.time_zone,
        started_at=now,
        ended_at=now,
        lines=tuple(_charge_line(line, zone.currency, local_date=local_date) for line, _ in priced),
    )
    recorded = MemberCharge.objects.create(
        member=member,
        zone=zone,
        rental=rental,
        note=note,
        charged_by_id=charged_by_id,
        request_key=request_key,
        fingerprint=fingerprint,
        charged_at=now,
    )
    recorded_lines = MemberChargeLine.objects.bulk_create(
        MemberChargeLine(
            charge=recorded,
            position=position,
            fee=fee,
            description=line.description,
            # As the column keeps it (four decimals), for the answer built from this row.
            quantity=line.quantity.quantize(Decimal("0.0001")),
            amount=asked.amount if isinstance(asked, CatalogueFee) else None,
            external_reference=asked.external_reference if isinstance(asked, CatalogueFee) else "",
        )
        for position, ((line, fee), asked) in enumerate(zip(priced, lines, strict=True), start=1)
    )
    prefetch.prime(recorded, "lines", recorded_lines)  # for the answer, without reading them back

    def link(invoice_ids: Sequence[int]) -> None:
        # Before the invoice's number (the foreign key is checked at commit): one statement
        # fewer under the series' lock.
        (recorded.invoice_id,) = invoice_ids
        recorded.save(update_fields=["invoice"])

    recorded.invoice = invoicing.issue_invoice(
        member=members.billing_identity(member),
        charge=charge,
        series=numbering.SeriesRule(prefix=zone.invoice_prefix, yearly=zone.yearly_series),
        subject_kind=SUBJECT_KIND,
        subject_id=recorded.pk,
        before_number=link,
    )
    return recorded


def _rental_of(member: Member, rental_id: int | None) -> Rental | None:
    if rental_id is None:
        return None
    rental = (
        Rental.objects.select_related("tariff__zone").filter(pk=rental_id, member=member).first()
    )
    if rental is None:
        raise UnknownRental(f"The member has no rental {rental_id}.", field="rental")
    return rental


def _zone_of(zone: Zone | None, rental: Rental | None) -> Zone:
    # The zone whose tariff priced the rental billed it: its charges go to the same series.
    rental_zone = None if rental is None else rental.tariff.zone
    if zone is None:
        if rental_zone is None:
            raise InvalidMemberCharge(
                "A charge needs its zone, or a rental whose zone bills it.", field="zone"
            )
        return rental_zone
    if rental_zone is not None and rental_zone.pk != zone.pk:
        raise AmbiguousCharge(
            f"Rental {rental.pk if rental else ''} was billed in {rental_zone.code}, not in"
            f" {zone.code}: give one zone.",
            field="zone",
        )
    return zone


def _nonempty(lines: Sequence[FeeLine | CatalogueFee]) -> Sequence[FeeLine | CatalogueFee]:
    if not lines:
        raise InvalidMemberCharge("A charge needs at least one line.", field="lines")
    return lines


def _priced(line: FeeLine | CatalogueFee, zone: Zone, now: datetime) -> tuple[FeeLine, Fee | None]:
    """Return a line with its price and VAT, and the catalogue fee that priced it."""
    if isinstance(line, FeeLine):
        return line, None
    fee = fees.fee_in_force(zone=zone, code=line.code, at=now)
    reference = line.external_reference.strip()
    if fee.pass_through:
        if line.amount is None or not reference:
            raise AmbiguousCharge(
                f"{fee.code!r} passes a cost through: give its amount and external_reference.",
                field="amount" if line.amount is None else "external_reference",
            )
        if line.quantity != 1:
            raise AmbiguousCharge(
                f"{fee.code!r} passes one cost through: its quantity is 1, the amount is the"
                " amount paid.",
                field="quantity",
            )
        unit_price = line.amount
    else:
        if line.amount is not None:
            raise AmbiguousCharge(
                f"The catalogue prices {fee.code!r} ({fee.unit_price} per {fee.unit}): send"
                " a quantity, not an amount.",
                field="amount",
            )
        unit_price = fee.unit_price
    vat_rate, exemption = fees.vat_of(fee)
    details: dict[str, charges.Detail] = {"fee": fee.code}
    if reference:
        details["external_reference"] = reference
    return (
        FeeLine(
            description=f"{fee.label}, {reference}" if reference else fee.label,
            unit_price=unit_price,
            quantity=line.quantity,
            vat_rate=vat_rate,
            vat_exemption=exemption,
            unit=fee.unit,
            cap=fee.cap_per_occurrence,
            kind=PASSED_THROUGH if fee.pass_through else FEE,
            details=details,
        ),
        fee,
    )


def _charge_line(line: FeeLine, currency: str, *, local_date: date) -> charges.ChargeLine:
    """Price one line: quantity x unit price, rounded half-up to the currency, then capped."""
    if not line.description.strip() or len(line.description) > _DESCRIPTION_MAX:
        raise InvalidMemberCharge(
            f"A line's description has 1 to {_DESCRIPTION_MAX} characters.", field="lines"
        )
    if money.round_money(line.unit_price, currency) != line.unit_price or line.unit_price < 0:
        raise InvalidMemberCharge(
            f"{line.description!r}: the unit price {line.unit_price} is negative or has more"
            f" decimals than {currency} allows.",
            field="lines",
        )
    quantity = line.quantity
    if not Decimal(0) < quantity < _MAX_QUANTITY or quantity.quantize(_QUANTUM) != quantity:
        raise InvalidMemberCharge(
            f"{line.description!r}: the quantity must be positive, below {_MAX_QUANTITY}, with"
            f" at most {_QUANTUM.as_tuple().exponent * -1} decimals.",
            field="quantity",
        )
    amount = money.round_money(line.unit_price * quantity, currency)
    details = dict(line.details)
    if line.cap is not None and amount > line.cap:
        # The cap bounds one occurrence: quantity x unit price, at most the cap.
        details.update(capped=True, uncapped=str(amount))
        amount = money.round_money(line.cap, currency)
    return charges.ChargeLine(
        kind=line.kind,
        description=line.description,
        quantity=quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        amount=amount,
        vat_rate=line.vat_rate,
        vat_exemption=line.vat_exemption,
        local_date=local_date,
        details=details,
    )


def _fingerprint(
    *, zone: Zone, rental_id: int | None, note: str, lines: Sequence[FeeLine | CatalogueFee]
) -> str:
    """Return the SHA-256 of what a charge asks, to tell a retry from a reused key."""
    asked = [
        {"code": line.code, "quantity": str(line.quantity), "amount": str(line.amount),
         "external_reference": line.external_reference}
        if isinstance(line, CatalogueFee)
        else {"description": line.description, "unit_price": str(line.unit_price),
              "quantity": str(line.quantity), "vat_rate": str(line.vat_rate),
              "vat_exemption": line.vat_exemption, "cap": str(line.cap), "kind": line.kind}
        for line in lines
    ]  # fmt: skip
    material = {"zone": zone.code, "rental": rental_id, "note": note, "lines": asked}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
