"""Helpers for the accounts' tests: documents issued at pinned instants, in any zone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from billing import charges, invoicing, numbering
from billing.models import CreditNote, Invoice
from core.transactions import run_in_transaction
from tests.invoices import charge

_subjects = itertools.count(1)


class DatabaseClock:
    """The database clock documents are dated by, pinned by the test (any database)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def line(
    amount: str, vat_rate: str | None, *, description: str = "Fee", exemption: str = ""
) -> charges.ChargeLine:
    """A one-unit fee line (VAT included), at a rate or outside the scope of VAT."""
    value = Decimal(amount)
    return charges.ChargeLine(
        kind="FEE",
        description=description,
        quantity=Decimal(1),
        unit="unit",
        unit_price=value,
        amount=value,
        vat_rate=None if vat_rate is None else Decimal(vat_rate),
        vat_exemption=exemption,
    )


CLEANING = line("25.00", "0.20", description="Cleaning")
PARKING = line("11.00", "0.10", description="Car park")
FINE = line("35.00", None, description="Parking fine passed through", exemption="Débours")


def invoice_at(
    clock: DatabaseClock,
    at: datetime,
    member_id: int,
    *,
    prefix: str = "PAR",
    time_zone: str = "Europe/Paris",
    currency: str = "EUR",
    lines: tuple[charges.ChargeLine, ...] | None = None,
    minutes: int = 20,
    billing_name: str = "Alice Martin",
    siren: str = "",
) -> Invoice:
    """Issue one invoice dated ``at`` (by the pinned database clock) in its own transaction.

    A ``siren`` makes the member a business customer (its company is the billing name).
    """
    clock.now = at
    billed = charge(minutes)
    if lines is not None or time_zone != "Europe/Paris" or currency != "EUR":
        billed = charges.Charge(
            currency=currency,
            time_zone=time_zone,
            started_at=at,
            ended_at=at,
            lines=lines if lines is not None else billed.lines,
        )
    return run_in_transaction(
        lambda: invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=member_id,
                billing_name=billing_name,
                billing_address="Paris",
                company_name=billing_name if siren else "",
                siren=siren,
            ),
            charge=billed,
            series=numbering.SeriesRule(prefix=prefix),
            subject_kind="test",
            subject_id=next(_subjects),
        )
    )


def credit_at(
    clock: DatabaseClock, at: datetime, invoice: Invoice, amount: str, issued_by_id: int
) -> CreditNote:
    """Credit ``amount`` of an invoice, dated ``at``."""
    clock.now = at
    return invoicing.issue_credit_note(
        invoice_number=invoice.number,
        amount=Decimal(amount),
        reason="goodwill",
        issued_by_id=issued_by_id,
    )
