"""Turn a charge into an invoice, and an invoice into a credit note.

Billing depends on the charge contract only (``billing.charges``): whoever produced the
charge, issuing is the same. Inside the issuing transaction: lock in a fixed order (the
billed thing or the invoice first, the series counter last), take the number, read the date
from the database clock, chain the hash, insert. Nothing slow happens while the counter is
locked; what follows an issue is registered to run after commit. The document's journal
entry (``billing.accounting.journal``) is posted last, its counter taken after the series'.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Sum

from billing import canonical, charges, money, numbering, queries
from billing.accounting import journal
from billing.models import CreditNote, Invoice, InvoiceLine
from core import clock, outbox, transactions
from core.errors import ConflictError, DomainError, NotFoundError
from core.transactions import RetryTransaction


class InvoiceNotFound(NotFoundError):
    """No invoice has that number (or the caller may not see it)."""

    code = "invoice_not_found"


class CreditExceedsInvoice(ConflictError):
    """The credit notes of an invoice would total more than the invoice."""

    code = "credit_exceeds_invoice"


class CreditRequestReused(ConflictError):
    """The issuer's request key already issued a different credit note."""

    code = "credit_request_reused"


class InvalidCredit(DomainError):
    """The credited amount is not positive, or has more decimals than the currency."""

    code = "invalid_credit"


class BrokenChain(RuntimeError):
    """The previous document of a series is missing: the database was tampered with."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingIdentity:
    """Who is billed: the member's id and the identity printed on the invoice (a snapshot).

    A business customer also has a company name and a SIREN (and maybe a VAT number): its
    invoice prints them, with payment terms and the late-payment mentions.
    """

    member_id: int
    billing_name: str
    billing_address: str
    company_name: str = ""
    siren: str = ""
    vat_id: str = ""


def issue_invoice(
    *,
    member: BillingIdentity,
    charge: charges.Charge,
    series: numbering.SeriesRule,
    subject_kind: str,
    subject_id: int,
) -> Invoice:
    """Number, date, chain and store the invoice for ``charge``; join the caller's transaction.

    ``subject_kind`` and ``subject_id`` name what was billed (a rental, a fee, a pass
    period): the database refuses a second invoice for the same subject.

    Raises:
        RuntimeError: outside a transaction.
        RetryTransaction: the local year turned while waiting for the counter.
    """
    transactions.require_transaction("issue_invoice")
    totals = charge.vat_totals
    seller = settings.BILLING
    series_name = series.series_at(clock.read_database_clock(), charge.time_zone)
    sequence = numbering.take_number(series_name)
    issued_at = clock.read_database_clock()
    if series.series_at(issued_at, charge.time_zone) != series_name:
        # The year turned while we waited for last year's counter: a 1 January invoice
        # must not be filed under the old year, so run the whole use case again.
        raise RetryTransaction(f"the year turned while waiting for {series_name}")
    invoice = Invoice(
        number=numbering.document_number(series_name, sequence),
        series=series_name,
        sequence=sequence,
        issued_at=issued_at,
        time_zone=charge.time_zone,
        member_id=member.member_id,
        billing_name=member.billing_name,
        billing_address=member.billing_address,
        seller_name=seller["SELLER_NAME"],
        seller_address=seller["SELLER_ADDRESS"],
        seller_vat_id=seller["SELLER_VAT_ID"],
        seller_legal_form=seller["SELLER_LEGAL_FORM"],
        seller_siren=seller["SELLER_SIREN"],
        buyer_company=member.company_name,
        buyer_siren=member.siren,
        buyer_vat_id=member.vat_id,
        payment_terms_days=seller["PAYMENT_TERMS_DAYS"] if member.siren else None,
        subject_kind=subject_kind,
        subject_id=subject_id,
        period_started_at=charge.started_at,
        period_ended_at=charge.ended_at,
        currency=charge.currency,
        net=sum((group.net for group in totals), Decimal(0)),
        vat_rate=queries.single_vat_rate(totals),
        vat=sum((group.vat for group in totals), Decimal(0)),
        total=charge.total,
        canonical_version=canonical.CURRENT_VERSION,
        previous_hash=_previous_hash(Invoice, series_name, sequence),
    )
    lines = [
        InvoiceLine(
            position=position,
            kind=line.kind,
            description=line.description,
            local_date=line.local_date,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            amount=line.amount,
            vat_rate=line.vat_rate,
            vat_exemption=line.vat_exemption,
            details=dict(line.details),
        )
        for position, line in enumerate(charge.lines, start=1)
    ]
    invoice.hash = canonical.document_hash(canonical.invoice_content(invoice, lines))
    invoice.save()
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)

    # The accounts: the invoice's journal entry, in this transaction, after the series counter.
    journal.post_invoice(invoice=invoice, totals=totals, series_prefix=series.prefix)

    # After commit a worker renders and stores the PDF, e-mails it and raises
    # invoice.issued: one job row, deferred here so that it commits (or not) with the invoice.
    outbox.enqueue("billing.document_issued", kind="invoice", document_id=invoice.pk)

    return invoice


@transactions.use_case
def issue_credit_note(
    *,
    invoice_number: str,
    amount: Decimal,
    reason: str,
    issued_by_id: int,
    request_key: str = "",
) -> CreditNote:
    """Credit part or all of an invoice, in its own gapless series, per VAT rate of the invoice.

    A ``request_key`` already used by the same issuer returns that credit note instead of
    crediting again (a retried request whose first answer was lost). A partial credit is
    shared over the invoice's VAT rates in proportion to their totals.

    Raises:
        InvoiceNotFound: no invoice has that number.
        CreditRequestReused: the request key was used for another credit.
        InvalidCredit: the amount is not positive or has too many decimals.
        CreditExceedsInvoice: the credited total would exceed the invoice's total.
    """
    # The invoice row lock serialises credits of one invoice, so their sum is checked
    # against committed credits only; it is taken before the counter (fixed lock order).
    invoice = (
        Invoice.objects.select_for_update()
        .prefetch_related("lines")
        .filter(number=invoice_number)
        .first()
    )
    if invoice is None:
        raise InvoiceNotFound(f"No invoice numbered {invoice_number!r}.")
    if request_key:
        earlier = CreditNote.objects.filter(
            issued_by_id=issued_by_id, request_key=request_key
        ).first()
        if earlier is not None:
            if (earlier.invoice_id, earlier.total, earlier.reason) != (invoice.pk, amount, reason):
                raise CreditRequestReused(
                    "This request key already issued another credit note.",
                    credit_note=earlier.number,
                )
            return earlier
    currency = invoice.currency
    if amount <= 0 or money.round_money(amount, currency) != amount:
        raise InvalidCredit(
            f"The amount must be positive with at most {money.minor_unit(currency)}"
            f" decimals for {currency}.",
            field="amount",
        )
    credited = invoice.credit_notes.aggregate(total=Sum("total"))["total"] or Decimal(0)
    if credited + amount > invoice.total:
        raise CreditExceedsInvoice(
            f"Credits would total {money.format_amount(credited + amount, currency)}, above "
            f"the invoice's {money.format_amount(invoice.total, currency)}.",
            invoice=invoice.number,
            already_credited=money.format_amount(credited, currency),
            invoice_total=money.format_amount(invoice.total, currency),
        )
    parts = charges.split_by_rate(amount, queries.vat_totals_of(invoice), currency)
    series = numbering.credit_note_series(invoice.series)
    sequence = numbering.take_number(series)
    note = CreditNote(
        number=numbering.document_number(series, sequence),
        series=series,
        sequence=sequence,
        issued_at=clock.read_database_clock(),
        invoice=invoice,
        reason=reason,
        currency=currency,
        net=sum((part.net for part in parts), Decimal(0)),
        vat_rate=queries.single_vat_rate(parts),
        vat=sum((part.vat for part in parts), Decimal(0)),
        total=amount,
        vat_breakdown=[_stored_vat_total(part) for part in parts],
        canonical_version=canonical.CURRENT_VERSION,
        previous_hash=_previous_hash(CreditNote, series, sequence),
        issued_by_id=issued_by_id,
        request_key=request_key,
    )
    note.hash = canonical.document_hash(canonical.credit_note_content(note, invoice.number))
    note.save()

    # The accounts: the reversing journal entry, in this transaction, after the series counter.
    journal.post_credit_note(note=note, invoice=invoice, parts=parts)

    # After commit: render, store and e-mail the credit note, raise credit_note.issued.
    outbox.enqueue("billing.document_issued", kind="credit_note", document_id=note.pk)

    return note


def _stored_vat_total(part: charges.VatTotal) -> dict[str, Any]:
    """Return one VAT group as stored and hashed: decimal strings in the canonical form."""
    return {
        "vat_rate": canonical.canonical_value(part.vat_rate),
        "vat_exemption": part.vat_exemption,
        "total": canonical.canonical_value(part.total),
        "net": canonical.canonical_value(part.net),
        "vat": canonical.canonical_value(part.vat),
    }


def _previous_hash(model: type[Invoice] | type[CreditNote], series: str, sequence: int) -> str:
    if sequence == 1:
        return canonical.GENESIS_HASH
    previous = model.objects.filter(series=series, sequence=sequence - 1).values_list(
        "hash", flat=True
    )
    for found in previous:
        return str(found)
    raise BrokenChain(f"{series} has no document {sequence - 1}: the chain cannot continue")
