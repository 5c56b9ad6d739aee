"""What a document says, read from its stored row only: the one source of its PDF and XML.

Everything printed comes from the issued row (its snapshot of the seller and the buyer,
its lines, its VAT per rate, its dates), never from settings or the clock, so that
rendering the same document again gives the same bytes. Even the countries of the XML are
read from the snapshot: the seller's from its VAT number, a buyer's from its own or else
the seller's (members are billed where the operator is established). Amounts before VAT per line are
shared out of each rate's net (one rounding per rate, as the invoice applied it), so the
lines add up to the totals per rate exactly (EN 16931 BR-S-08).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from billing import charges, money, queries
from billing.models import CreditNote, Invoice

INVOICE, CREDIT_NOTE = "invoice", "credit_note"
# UNTDID 1001: commercial invoice, credit note.
TYPE_CODES = {INVOICE: "380", CREDIT_NOTE: "381"}
_PRICE_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """A seller or a buyer as the document names it."""

    name: str
    address: str
    country: str
    company: str = ""
    legal_form: str = ""
    siren: str = ""
    vat_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One printed line, with its amounts including and before VAT."""

    position: int
    description: str
    local_date: dt.date | None
    quantity: Decimal
    unit: str
    unit_code: str
    unit_price: Decimal
    unit_price_net: Decimal
    amount: Decimal
    amount_net: Decimal
    vat_rate: Decimal | None
    vat_exemption: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """Everything one invoice or credit note shows, in its zone's local time."""

    kind: str
    number: str
    issued_at: dt.datetime
    issued_local: dt.datetime
    time_zone: str
    currency: str
    seller: Party
    buyer: Party
    period_start_local: dt.datetime
    period_end_local: dt.datetime
    lines: tuple[Line, ...]
    vat_totals: tuple[charges.VatTotal, ...]
    net: Decimal
    vat: Decimal
    total: Decimal
    payment_terms_days: int | None
    payment_due_date: dt.date | None
    corrected_number: str = ""
    corrected_issued_date: dt.date | None = None
    reason: str = ""
    hash: str

    @property
    def type_code(self) -> str:
        """UNTDID 1001 code of the document: 380 invoice, 381 credit note."""
        return TYPE_CODES[self.kind]

    @property
    def is_business(self) -> bool:
        """Whether the buyer is a business customer (named by its SIREN)."""
        return bool(self.buyer.siren)

    @property
    def last_service_date(self) -> dt.date:
        """The local date of the last instant of the half-open period of service."""
        end = self.period_end_local
        if end > self.period_start_local:
            end -= dt.timedelta(microseconds=1)
        return end.date()


def of_invoice(invoice: Invoice) -> Content:
    """Return what an invoice shows."""
    zone = ZoneInfo(invoice.time_zone)
    issued_local = invoice.issued_at.astimezone(zone)
    totals = queries.vat_totals_of(invoice)
    days = invoice.payment_terms_days
    return Content(
        kind=INVOICE,
        number=invoice.number,
        issued_at=invoice.issued_at,
        issued_local=issued_local,
        time_zone=invoice.time_zone,
        currency=invoice.currency,
        seller=_seller(invoice),
        buyer=_buyer(invoice),
        period_start_local=invoice.period_started_at.astimezone(zone),
        period_end_local=invoice.period_ended_at.astimezone(zone),
        lines=_lines(queries.lines_of(invoice), totals, invoice.currency),
        vat_totals=totals,
        net=invoice.net,
        vat=invoice.vat,
        total=invoice.total,
        payment_terms_days=days,
        payment_due_date=None if days is None else issued_local.date() + dt.timedelta(days=days),
        hash=invoice.hash,
    )


def of_credit_note(note: CreditNote) -> Content:
    """Return what a credit note shows: one line per VAT rate credited, citing the invoice."""
    invoice = note.invoice
    zone = ZoneInfo(invoice.time_zone)
    totals = queries.vat_totals_of(note)
    lines = tuple(
        charges.ChargeLine(
            kind="FEE",
            description=f"Avoir sur la facture {invoice.number} : {note.reason}",
            quantity=Decimal(1),
            unit="unit",
            unit_price=group.total,
            amount=group.total,
            vat_rate=group.vat_rate,
            vat_exemption=group.vat_exemption,
        )
        for group in totals
    )
    issued_local = note.issued_at.astimezone(zone)
    days = invoice.payment_terms_days
    return Content(
        kind=CREDIT_NOTE,
        number=note.number,
        issued_at=note.issued_at,
        issued_local=issued_local,
        time_zone=invoice.time_zone,
        currency=note.currency,
        seller=_seller(invoice),
        buyer=_buyer(invoice),
        period_start_local=invoice.period_started_at.astimezone(zone),
        period_end_local=invoice.period_ended_at.astimezone(zone),
        lines=_lines(lines, totals, note.currency),
        vat_totals=totals,
        net=note.net,
        vat=note.vat,
        total=note.total,
        payment_terms_days=days,
        payment_due_date=None,
        corrected_number=invoice.number,
        corrected_issued_date=invoice.issued_at.astimezone(zone).date(),
        reason=note.reason,
        hash=note.hash,
    )


def _seller(invoice: Invoice) -> Party:
    return Party(
        name=invoice.seller_name,
        address=invoice.seller_address,
        country=_country(invoice.seller_vat_id, "FR"),
        legal_form=invoice.seller_legal_form,
        siren=invoice.seller_siren,
        vat_id=invoice.seller_vat_id,
    )


def _buyer(invoice: Invoice) -> Party:
    return Party(
        name=invoice.billing_name,
        address=invoice.billing_address,
        country=_country(invoice.buyer_vat_id, _country(invoice.seller_vat_id, "FR")),
        company=invoice.buyer_company,
        siren=invoice.buyer_siren,
        vat_id=invoice.buyer_vat_id,
    )


def _country(vat_id: str, default: str) -> str:
    """Return the ISO 3166 country of a VAT number's prefix (Greece writes EL), or ``default``."""
    prefix = vat_id[:2].upper()
    if len(prefix) == 2 and prefix.isalpha():
        return "GR" if prefix == "EL" else prefix
    return default


def _lines(
    lines: tuple[charges.ChargeLine, ...],
    totals: tuple[charges.VatTotal, ...],
    currency: str,
) -> tuple[Line, ...]:
    nets = _nets(lines, totals, currency)
    return tuple(
        Line(
            position=position,
            description=line.description,
            local_date=line.local_date,
            quantity=line.quantity,
            unit=line.unit,
            unit_code=charges.UNITS[line.unit],
            unit_price=line.unit_price,
            unit_price_net=_before_vat(line.unit_price, line.vat_rate),
            amount=line.amount,
            amount_net=net,
            vat_rate=line.vat_rate,
            vat_exemption=line.vat_exemption,
        )
        for position, (line, net) in enumerate(zip(lines, nets, strict=True), start=1)
    )


def _nets(
    lines: tuple[charges.ChargeLine, ...],
    totals: tuple[charges.VatTotal, ...],
    currency: str,
) -> list[Decimal]:
    """Share each rate's net over its lines: each rounded, the largest absorbing the rest."""
    nets = [money.round_money(_before_vat(line.amount, line.vat_rate), currency) for line in lines]
    for group in totals:
        members = [
            i
            for i, line in enumerate(lines)
            if line.vat_key == (group.vat_rate, group.vat_exemption)
        ]
        if not members:
            continue
        rest = group.net - sum((nets[i] for i in members), Decimal(0))
        largest = max(members, key=lambda i: (abs(lines[i].amount), -i))
        nets[largest] += rest
    return nets


def _before_vat(amount: Decimal, vat_rate: Decimal | None) -> Decimal:
    if vat_rate is None:
        return amount
    return (amount / (1 + vat_rate)).quantize(_PRICE_PLACES, rounding=ROUND_HALF_UP)
