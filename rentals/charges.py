"""Charge a member a one-off amount: a producer of charges like rentals, reusing billing as is.

A fee (cleaning, late return) or a cost passed through (a toll, a fine) becomes one line of
an invoice issued at once in the zone's series, each line with its own VAT rate or the legal
reason it is outside the scope of VAT. Billing numbers, chains, audits and exports it exactly
as it does rental invoices: nothing here knows how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing import charges, invoicing, money, numbering
from core import transactions
from core.errors import ConflictError, DomainError
from fleet.models import Member, Zone
from rentals.models import MemberCharge, Rental

SUBJECT_KIND = "member_charge"
FEE = "FEE"


class InvalidMemberCharge(DomainError):
    """A charge without lines, or a line that is not a usable amount."""

    code = "invalid_charge"


class ChargeRequestReused(ConflictError):
    """The request key already charged the member something else."""

    code = "charge_request_reused"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeLine:
    """One charged line: ``quantity`` x ``unit_price`` (VAT included), with its VAT treatment.

    ``vat_rate=None`` means outside the scope of VAT (a cost passed through in the member's
    name), and then ``vat_exemption`` is the legal reason printed on the invoice.
    """

    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal(1)
    vat_rate: Decimal | None
    vat_exemption: str = ""


@transactions.use_case
def charge_member(
    *,
    member: Member,
    zone: Zone,
    lines: Sequence[FeeLine],
    charged_by_id: int,
    now: datetime,
    rental: Rental | None = None,
    note: str = "",
    request_key: str = "",
) -> MemberCharge:
    """Record a one-off charge of ``member`` and issue its invoice in ``zone``'s series.

    A ``request_key`` already used by the same person returns that charge instead of
    charging again (a retried request whose first answer was lost).

    Raises:
        InvalidMemberCharge: no lines, or a line's amount has more decimals than the currency.
        ChargeRequestReused: the request key was used for another charge.
        charges.InvalidCharge: a line breaks the charge contract (e.g. no exemption reason).
    """
    if request_key:
        earlier = (
            MemberCharge.objects.select_related("invoice")
            .filter(charged_by_id=charged_by_id, request_key=request_key)
            .first()
        )
        if earlier is not None:
            if (earlier.member_id, earlier.zone_id, earlier.note) != (member.pk, zone.pk, note):
                raise ChargeRequestReused(
                    "This request key already charged something else.", charge=earlier.pk
                )
            return earlier
    charge = charges.Charge(
        currency=zone.currency,
        time_zone=zone.time_zone,
        started_at=now,
        ended_at=now,
        lines=tuple(
            _charge_line(
                line, zone.currency, local_date=now.astimezone(ZoneInfo(zone.time_zone)).date()
            )
            for line in _nonempty(lines)
        ),
    )
    recorded = MemberCharge.objects.create(
        member=member,
        zone=zone,
        rental=rental,
        note=note,
        charged_by_id=charged_by_id,
        request_key=request_key,
        charged_at=now,
    )
    recorded.invoice = invoicing.issue_invoice(
        member=invoicing.BillingIdentity(
            member_id=member.user_id,
            billing_name=member.billing_name,
            billing_address=member.billing_address,
        ),
        charge=charge,
        series=numbering.SeriesRule(prefix=zone.invoice_prefix, yearly=zone.yearly_series),
        subject_kind=SUBJECT_KIND,
        subject_id=recorded.pk,
    )
    recorded.save(update_fields=["invoice"])
    return recorded


def _nonempty(lines: Sequence[FeeLine]) -> Sequence[FeeLine]:
    if not lines:
        raise InvalidMemberCharge("A charge needs at least one line.", field="lines")
    return lines


def _charge_line(line: FeeLine, currency: str, *, local_date: date) -> charges.ChargeLine:
    amount = line.unit_price * line.quantity
    if money.round_money(amount, currency) != amount:
        raise InvalidMemberCharge(
            f"{line.description!r}: {line.quantity} x {line.unit_price} has more decimals than "
            f"{currency} allows.",
            field="lines",
        )
    return charges.ChargeLine(
        kind=FEE,
        description=line.description,
        quantity=line.quantity,
        unit="unit",
        unit_price=line.unit_price,
        amount=money.round_money(amount, currency),
        vat_rate=line.vat_rate,
        vat_exemption=line.vat_exemption,
        local_date=local_date,
    )
