"""Turn a charge into an invoice, and an invoice into a credit note.

Billing depends on the charge contract only (``billing.charges``): whoever produced the
charge, issuing is the same. Inside the issuing transaction: lock in a fixed order (the
billed thing or the invoice first, the series counter last), prepare everything that needs
no number, then take the number, read the date from the database clock, chain the hash,
insert. Invoices are issued in batches of one series (``issue_invoices``: one counter lock,
one date, one insert for the batch), a single invoice as a batch of one;
``before_invoices_numbered`` and ``after_invoices_inserted`` are the two places for work
that joins the issuing transaction, before the counter and under it. Nothing slow happens
while the counter is locked, and as little as the guarantees allow: every invoice of the
series waits for it. What follows an issue is enqueued to run after commit. Each
document's journal entry (``billing.accounting.journal``) is posted in the same transaction,
its counter taken after the series'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Sum

from billing import canonical, charges, money, numbering, queries
from billing.accounting import entries, journal
from billing.models import CreditNote, Invoice, InvoiceLine
from core import bulk, clock, outbox, prefetch, transactions
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


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceRequest:
    """One invoice of a batch: who is billed, the charge, and what it is for (its subject)."""

    member: BillingIdentity
    charge: charges.Charge
    subject_kind: str
    subject_id: int


@dataclass(frozen=True, slots=True)
class IssuedInvoice:
    """An invoice just inserted, with its lines and its totals per VAT rate."""

    invoice: Invoice
    lines: tuple[InvoiceLine, ...]
    totals: tuple[charges.VatTotal, ...]


@dataclass(frozen=True, slots=True)
class IssuedBatch:
    """The invoices of one batch, in number order, all in one series."""

    series: numbering.SeriesRule
    series_name: str
    invoices: tuple[IssuedInvoice, ...]
    #: The zone's accounts and journals, read before the number (``journal.chart_for``).
    chart: entries.Chart


InvoiceHook = Callable[[IssuedBatch], None]
#: The caller's work before the number: called with the batch's reserved invoice ids.
BeforeNumber = Callable[[Sequence[int]], None]

#: Functions called with each batch by ``after_invoices_inserted``, in order, inside the
#: issuing transaction (the rules there apply). For work registered from outside billing.
AFTER_INVOICES_INSERTED: list[InvoiceHook] = []


def issue_invoice(
    *,
    member: BillingIdentity,
    charge: charges.Charge,
    series: numbering.SeriesRule,
    subject_kind: str,
    subject_id: int,
    before_number: BeforeNumber | None = None,
) -> Invoice:
    """Number, date, chain and store the invoice for ``charge``; join the caller's transaction.

    A batch of one (``issue_invoices``): one way to issue, whatever the count.
    ``subject_kind`` and ``subject_id`` name what was billed (a rental, a fee, a pass
    period): the database refuses a second invoice for the same subject.
    ``before_number`` is the caller's work that needs the invoice's id but not its number
    (``issue_invoices``).

    Raises:
        RuntimeError: outside a transaction.
        RetryTransaction: the local year turned while waiting for the counter.
    """
    request = InvoiceRequest(
        member=member, charge=charge, subject_kind=subject_kind, subject_id=subject_id
    )
    (issued,) = issue_invoices(
        requests=[request], series=series, before_number=before_number
    ).invoices
    return issued.invoice


def issue_invoices(
    *,
    requests: Sequence[InvoiceRequest],
    series: numbering.SeriesRule,
    before_number: BeforeNumber | None = None,
) -> IssuedBatch:
    """Number, date, chain and store a batch of invoices in one series; join the transaction.

    Everything that does not need a number is done first, while the counter is free: the
    invoices and their lines are built, their ids reserved, their jobs deferred, the
    accounts they post to read, and ``before_number`` (if given) is called with the ids in
    the requests' order, for the caller's own rows that refer to them (foreign keys are
    checked at commit). Then one counter lock takes the batch's numbers
    (``get_next_values``), one database-clock reading dates them all (after the numbers, so
    dates never go backwards against numbers), the hash chain runs in number order from the
    series' last document, and the invoices and their lines are inserted (one statement
    each; COPY for a large batch). ``after_invoices_inserted``
    follows, in the same transaction. The caller keeps the transaction short: the counter
    stays locked until it ends, and every invoice of the series waits behind it.

    Raises:
        RuntimeError: outside a transaction.
        ValueError: no request, or charges dated in different time zones (a series' year
            is read in one).
        RetryTransaction: the local year turned while waiting for the counter.
    """
    transactions.require_transaction("issue_invoices")
    if not requests:
        raise ValueError("a batch needs at least one invoice")
    time_zone = requests[0].charge.time_zone
    if any(request.charge.time_zone != time_zone for request in requests):
        raise ValueError("the invoices of a batch are dated in one time zone")
    seller = settings.BILLING
    totals_of: dict[int, tuple[charges.VatTotal, ...]] = {}
    drafts = [_draft(request, seller, totals_of) for request in requests]
    ids = bulk.reserve_keys(Invoice, len(drafts))
    for draft, invoice_id in zip(drafts, ids, strict=True):
        draft.invoice.pk = invoice_id
        for line in draft.lines:
            line.invoice = draft.invoice
        # What a new invoice holds is known, for its answer: its lines, no credit note, no
        # stored file yet. Here, while the counter is free.
        prefetch.prime(draft.invoice, "lines", draft.lines)
        prefetch.prime(draft.invoice, "credit_notes", ())
        prefetch.prime_none(draft.invoice, "stored")
    chart = before_invoices_numbered(drafts, series)
    if before_number is not None:
        before_number(ids)

    series_name = series.series_at(clock.read_database_clock(), time_zone)
    numbers = numbering.take_numbers(series_name, len(drafts))
    issued_at = clock.read_database_clock()
    if series.series_at(issued_at, time_zone) != series_name:
        # The year turned while we waited for last year's counter: a 1 January invoice
        # must not be filed under the old year, so run the whole use case again.
        raise RetryTransaction(f"the year turned while waiting for {series_name}")
    previous_hash = _previous_hash(Invoice, series_name, numbers[0])
    for draft, sequence in zip(drafts, numbers, strict=True):
        invoice = draft.invoice
        invoice.number = numbering.document_number(series_name, sequence)
        invoice.series = series_name
        invoice.sequence = sequence
        invoice.issued_at = issued_at
        invoice.previous_hash = previous_hash
        invoice.hash = canonical.document_hash(canonical.invoice_content(invoice, draft.lines))
        previous_hash = invoice.hash
    # Two statements, not one: the lines' guard (billing/migrations/0011) accepts only lines
    # of invoices an earlier statement of this transaction inserted.
    bulk.insert([draft.invoice for draft in drafts])
    bulk.insert([line for draft in drafts for line in draft.lines])
    batch = IssuedBatch(series=series, series_name=series_name, invoices=tuple(drafts), chart=chart)
    after_invoices_inserted(batch)
    return batch


def before_invoices_numbered(
    drafts: Sequence[IssuedInvoice], series: numbering.SeriesRule
) -> entries.Chart:
    """Do, before the counter is locked, the issuing work that needs ids but no number.

    The drafts carry their reserved ids. After commit a worker renders and stores each
    PDF, e-mails it and raises invoice.issued: one job row each, deferred in one statement,
    committed (or not) with the invoices. The accounts of the zone are read here too, for
    ``after_invoices_inserted`` to post to: neither needs to wait for the series.
    """
    outbox.enqueue_many(
        "billing.document_issued",
        [{"kind": "invoice", "document_id": draft.invoice.pk} for draft in drafts],
    )
    return journal.chart_for(series.prefix)


def after_invoices_inserted(batch: IssuedBatch) -> None:
    """Do what must commit, or roll back, with a batch of invoices just inserted.

    THE place for work that joins the issuing transaction once the documents exist and
    needs their numbers or dates: journal entries posted for the accounts. Every invoice
    passes here, a single one as a batch of one, so write such work once, in batch form:
    one statement for the batch, never one per invoice. It runs inside the transaction with
    the series counter locked, which every other invoice of the series waits for: nothing
    slow (no rendering, no network); enqueue it instead, and what needs only the invoices'
    ids belongs in ``before_invoices_numbered``. The batch's invoices carry their ids,
    numbers, dates, lines and VAT totals.
    """
    invoices = batch.invoices
    # The accounts: each invoice's journal entry, its entry number after the series' (one
    # counter call for the batch).
    journal.post_invoices(
        invoices=[(issued.invoice, issued.totals) for issued in invoices],
        series_prefix=batch.series.prefix,
        chart=batch.chart,
    )
    for hook in AFTER_INVOICES_INSERTED:
        hook(batch)


def _draft(
    request: InvoiceRequest,
    seller: Mapping[str, Any],
    totals_of: dict[int, tuple[charges.VatTotal, ...]],
) -> IssuedInvoice:
    """Build an invoice and its lines, all but the number, the date and the chain.

    ``totals_of`` keeps the VAT totals of each charge object met in the batch: a producer
    may bill many members the same (immutable) charge.
    """
    charge, member = request.charge, request.member
    totals = totals_of.get(id(charge))
    if totals is None:
        totals = totals_of[id(charge)] = charge.vat_totals
    invoice = bulk.new(
        Invoice,
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
        subject_kind=request.subject_kind,
        subject_id=request.subject_id,
        period_started_at=charge.started_at,
        period_ended_at=charge.ended_at,
        currency=charge.currency,
        net=sum((group.net for group in totals), Decimal(0)),
        vat_rate=queries.single_vat_rate(totals),
        vat=sum((group.vat for group in totals), Decimal(0)),
        total=charge.total,
        canonical_version=canonical.CURRENT_VERSION,
    )
    lines = tuple(
        bulk.new(
            InvoiceLine,
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
    )
    return IssuedInvoice(invoice=invoice, lines=lines, totals=totals)


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
    # Before the number, while the counter is free: the note's id, the job that renders,
    # stores and e-mails it and raises credit_note.issued after commit, and the invoice's
    # journal entry its own entry reverses.
    (note_id,) = bulk.reserve_keys(CreditNote, 1)
    outbox.enqueue("billing.document_issued", kind="credit_note", document_id=note_id)
    reversal = journal.reversal_of(invoice)
    sequence = numbering.take_number(series)
    note = CreditNote(
        pk=note_id,
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
    note.save(force_insert=True)
    prefetch.prime_none(note, "stored")

    # The accounts: the reversing journal entry, in this transaction, after the series counter.
    journal.post_credit_note(note=note, reversal=reversal, parts=parts)
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
