"""Helpers to issue invoices directly through billing, as the use cases do."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from billing import charges, invoicing, numbering, pricing
from core.transactions import run_in_transaction

PARIS_STANDARD = pricing.Tariff(
    time_zone="Europe/Paris",
    currency="EUR",
    vat_rate=Decimal("0.20"),
    bands=[
        pricing.Band(starts_at=time(7, 0), per_minute=Decimal("0.35")),
        pricing.Band(starts_at=time(22, 0), per_minute=Decimal("0.20")),
    ],
    unlock_fee=Decimal("1.00"),
    minimum_minutes=0,
    daily_cap=Decimal("45.00"),
)
_subjects = itertools.count(1)


def charge(minutes: int = 20) -> charges.Charge:
    started = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    return pricing.price(PARIS_STANDARD, started, started + timedelta(minutes=minutes))


def issue(
    user_id: int,
    *,
    subject_id: int | None = None,
    minutes: int = 20,
    prefix: str = "PAR",
    yearly: bool = True,
    billing_name: str = "Alice Martin",
) -> invoicing.Invoice:
    """Issue one invoice in its own use-case transaction."""
    subject = subject_id if subject_id is not None else next(_subjects)
    return run_in_transaction(
        lambda: invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=user_id, billing_name=billing_name, billing_address="Paris"
            ),
            charge=charge(minutes),
            series=numbering.SeriesRule(prefix=prefix, yearly=yearly),
            subject_kind="test",
            subject_id=subject,
        )
    )
