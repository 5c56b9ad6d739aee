"""Turn a charge into an invoice, and an invoice into a credit note.

Inside the issuing transaction: lock in a fixed order (the billed thing or the invoice
first, the series counter last), take the number, read the date from the database clock,
chain the hash, insert. Nothing slow happens while the counter is locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Sum

from billing import money, numbering, pricing
from billing.canonical import CANONICAL_VERSION, GENESIS_HASH, document_hash
from billing.documents import credit_note_content, invoice_content
from billing.models import CreditNote, Invoice, InvoiceLine
from core import clock
from core.errors import ConflictError, DomainError, NotFoundError
from core.transactions import RetryTransaction, run_in_transaction


class InvoiceNotFound(NotFoundError):
    code = "invoice_not_found"


class CreditExceedsInvoice(ConflictError):
    code = "credit_exceeds_invoice"


class CreditRequestReused(ConflictError):
    code = "credit_request_reused"


class InvalidCredit(DomainError):
    code = "invalid_credit"


class BrokenChain(RuntimeError):
    """The previous document of a series is missing: the database was tampered with."""


@dataclass(frozen=True, slots=True)
class Customer:
    """Who is billed, with the identity printed on the invoice (a snapshot)."""

    user_id: int
    billing_name: str
    billing_address: str


def issue_invoice(
    *,
    customer: Customer,
    charge: pricing.Charge,
    vat_rate: Decimal,
    series_prefix: str,
    yearly_series: bool,
    subject_kind: str,
    subject_id: int,
) -> Invoice:
    """Number, date, chain and store the invoice for ``charge``; join the caller's transaction.

    Raises:
        RuntimeError: outside a transaction.
        RetryTransaction: the year turned while waiting for the counter (PITFALLS 15).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("issue_invoice joins the use case's transaction; none is open")
    net, vat = money.split_vat(charge.total, vat_rate, charge.currency)
    seller = settings.BILLING

    def series_at(instant: Any) -> str:
        return numbering.series_name(
            prefix=series_prefix,
            yearly=yearly_series,
            issued_at=instant,
            time_zone=charge.time_zone,
        )

    series = series_at(clock.read_database_clock())
    sequence = numbering.take_number(series)
    issued_at = clock.read_database_clock()
    if series_at(issued_at) != series:
        raise RetryTransaction(f"the year turned while waiting for {series}")
    invoice = Invoice(
        number=numbering.document_number(series, sequence),
        series=series,
        sequence=sequence,
        issued_at=issued_at,
        time_zone=charge.time_zone,
        customer_id=customer.user_id,
        billing_name=customer.billing_name,
        billing_address=customer.billing_address,
        seller_name=seller["SELLER_NAME"],
        seller_address=seller["SELLER_ADDRESS"],
        seller_vat_id=seller["SELLER_VAT_ID"],
        subject_kind=subject_kind,
        subject_id=subject_id,
        period_started_at=charge.started_at,
        period_ended_at=charge.ended_at,
        minutes=charge.minutes,
        currency=charge.currency,
        net=net,
        vat_rate=vat_rate,
        vat=vat,
        total=charge.total,
        canonical_version=CANONICAL_VERSION,
        previous_hash=_previous_hash(Invoice, series, sequence),
        created_at=issued_at,
    )
    lines = [
        InvoiceLine(
            position=position,
            kind=line.kind,
            local_date=line.date,
            band_starts_at=line.band_starts_at,
            minutes=line.minutes,
            rate=line.rate,
            amount=line.amount,
            capped=line.capped,
        )
        for position, line in enumerate(charge.lines, start=1)
    ]
    invoice.hash = document_hash(invoice_content(invoice, lines))
    invoice.save()
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    return invoice


def issue_credit_note(
    *,
    invoice_number: str,
    amount: Decimal,
    reason: str,
    issued_by_id: int,
    request_key: str = "",
) -> CreditNote:
    """Credit part or all of an invoice, in its own gapless series.

    A ``request_key`` already used by the same issuer returns that credit note instead of
    crediting again (a retried request whose first answer was lost).

    Raises:
        InvoiceNotFound: no invoice has that number.
        CreditRequestReused: the request key was used for another credit.
        InvalidCredit: the amount is not positive or has too many decimals.
        CreditExceedsInvoice: the credited total would exceed the invoice's total.
    """

    def work() -> CreditNote:
        # The invoice row lock serialises credits of one invoice, so their sum is checked
        # against committed credits only; it is taken before the counter (fixed lock order).
        invoice = Invoice.objects.select_for_update().filter(number=invoice_number).first()
        if invoice is None:
            raise InvoiceNotFound(f"No invoice numbered {invoice_number!r}.")
        if request_key:
            earlier = CreditNote.objects.filter(
                issued_by_id=issued_by_id, request_key=request_key
            ).first()
            if earlier is not None:
                if (earlier.invoice_id, earlier.total, earlier.reason) != (
                    invoice.pk,
                    amount,
                    reason,
                ):
                    raise CreditRequestReused(
                        "This request key already issued another credit note.",
                        credit_note=earlier.number,
                    )
                return earlier
        if amount <= 0 or money.round_money(amount, invoice.currency) != amount:
            raise InvalidCredit(
                f"The amount must be positive with at most {money.minor_unit(invoice.currency)}"
                f" decimals for {invoice.currency}.",
                field="amount",
            )
        credited = invoice.credit_notes.aggregate(total=Sum("total"))["total"] or Decimal(0)
        if credited + amount > invoice.total:
            currency = invoice.currency
            raise CreditExceedsInvoice(
                f"Credits would total {money.round_money(credited + amount, currency)}, above "
                f"the invoice's {money.round_money(invoice.total, currency)}.",
                invoice=invoice.number,
                already_credited=str(money.round_money(credited, invoice.currency)),
                invoice_total=str(money.round_money(invoice.total, invoice.currency)),
            )
        net, vat = money.split_vat(amount, invoice.vat_rate, invoice.currency)
        series = numbering.credit_note_series(invoice.series)
        sequence = numbering.take_number(series)
        issued_at = clock.read_database_clock()
        note = CreditNote(
            number=numbering.document_number(series, sequence),
            series=series,
            sequence=sequence,
            issued_at=issued_at,
            invoice=invoice,
            reason=reason,
            currency=invoice.currency,
            net=net,
            vat_rate=invoice.vat_rate,
            vat=vat,
            total=amount,
            canonical_version=CANONICAL_VERSION,
            previous_hash=_previous_hash(CreditNote, series, sequence),
            created_at=issued_at,
            issued_by_id=issued_by_id,
            request_key=request_key,
        )
        note.hash = document_hash(credit_note_content(note, invoice.number))
        note.save()
        return note

    return run_in_transaction(work)


def _previous_hash(model: type[Invoice] | type[CreditNote], series: str, sequence: int) -> str:
    if sequence == 1:
        return GENESIS_HASH
    previous = model.objects.filter(series=series, sequence=sequence - 1).values_list(
        "hash", flat=True
    )
    for found in previous:
        return str(found)
    raise BrokenChain(f"{series} has no document {sequence - 1}: the chain cannot continue")
