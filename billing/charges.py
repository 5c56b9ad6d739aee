"""The charge contract: what billing turns into an invoice, whoever produced it.

A producer (rentals, fees, passes) builds a ``Charge``: the lines it bills, each with its own
VAT rate, over a period, in one currency. Billing numbers, dates, chains and stores it without
knowing what a minute, a band or a cap is: those are the producer's ``details``.

Prices include VAT. Each line's ``amount`` is already rounded to the currency's minor unit;
the charge's total is the exact sum of its lines, computed when it is built, so that lines and
total can never disagree. VAT is computed per rate on the sum of that rate's lines (EU VAT
directive art. 226: taxable amount and VAT per rate), never per line.

Pure: no Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from types import MappingProxyType
from typing import Final

from billing import money
from core.errors import DomainError

_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


@dataclass(frozen=True, slots=True)
class LineKind:
    """A kind of invoice line: its stable code (stored, hashed, in the API) and its label."""

    code: str
    label: str


#: The one list of line kinds. Adding a kind is adding a row here; a code is never removed
#: or renamed, because issued documents carry it in their hash.
LINE_KINDS: Final[tuple[LineKind, ...]] = (
    LineKind("UNLOCK_FEE", "Unlock fee"),
    LineKind("MINUTES", "Minutes"),
    LineKind("PARKED_MINUTES", "Parked minutes"),
    LineKind("DAILY_CAP", "Daily cap"),
    LineKind("DISTANCE", "Distance"),
    LineKind("FEE", "Fee"),
    LineKind("PASSED_THROUGH", "Cost passed through"),
    LineKind("MONTHLY_PASS", "Monthly pass"),
)
_KIND_CODES: Final = frozenset(kind.code for kind in LINE_KINDS)
#: The longest code, for the column that stores it.
KIND_MAX_LENGTH: Final = 24

#: Units of quantity, by the name the API shows (and UN/ECE Recommendation 20 code).
UNITS: Final[Mapping[str, str]] = MappingProxyType(
    {"minute": "MIN", "hour": "HUR", "day": "DAY", "km": "KMT", "month": "MON", "unit": "C62"}
)

# What a producer may put in ``details``: plain JSON scalars, stored and hashed as they are.
Detail = str | int | bool | None


def line_kind_choices() -> list[tuple[str, str]]:
    """Return the line kinds as Django choices (a callable, so a new kind needs no migration)."""
    return [(kind.code, kind.label) for kind in LINE_KINDS]


class InvalidCharge(DomainError, ValueError):
    """A charge or one of its lines breaks the contract; ``details["field"]`` names what."""

    code = "invalid_charge"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeLine:
    """One billed line: ``quantity`` ``unit`` at ``unit_price``, for ``amount`` (VAT included).

    ``amount`` is authoritative and rounded to the minor unit; it is not always
    ``quantity * unit_price`` (a date's minutes share its one rounding, a cap is negative).
    ``vat_rate`` is a fraction (``0.20``); ``None`` means outside the scope of VAT, and then
    ``vat_exemption`` gives the legal reason printed on the invoice. ``local_date`` is the
    date of the service in the charge's zone, where the line has one. ``details`` carry what
    the kind needs (a band's start, whether a cap applied); billing stores and hashes them
    without reading them.
    """

    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    vat_rate: Decimal | None
    vat_exemption: str = ""
    local_date: dt.date | None = None
    details: Mapping[str, Detail] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in _KIND_CODES:
            raise InvalidCharge(f"Unknown line kind {self.kind!r}.", field="kind")
        if self.unit not in UNITS:
            raise InvalidCharge(f"Unknown unit {self.unit!r}.", field="unit")
        for name in ("quantity", "unit_price", "amount"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise InvalidCharge(f"{name} must be a finite Decimal, got {value!r}.", field=name)
        if self.quantity < 0:
            raise InvalidCharge("quantity must not be negative.", field="quantity")
        if self.vat_rate is None:
            if not self.vat_exemption.strip():
                raise InvalidCharge(
                    "A line outside the scope of VAT needs its legal reason (vat_exemption).",
                    field="vat_exemption",
                )
        else:
            if not isinstance(self.vat_rate, Decimal) or not Decimal(0) <= self.vat_rate < 1:
                raise InvalidCharge(
                    f"vat_rate must be a Decimal in [0, 1), got {self.vat_rate!r}.",
                    field="vat_rate",
                )
            if self.vat_exemption:
                raise InvalidCharge(
                    "A line with a VAT rate has no exemption reason.", field="vat_exemption"
                )
        details = dict(self.details)
        for key, value in details.items():
            if not isinstance(key, str) or not isinstance(value, Detail):
                raise InvalidCharge(f"details[{key!r}] is not a JSON scalar.", field="details")
        object.__setattr__(self, "details", MappingProxyType(details))

    def dated(self, local_date: dt.date | None) -> ChargeLine:
        """The same line on ``local_date``, built without checking it again.

        A long rental repeats the same day's lines on every date: they are checked once,
        then copied (their ``details`` are read-only, so the copies share them).
        """
        line = object.__new__(ChargeLine)
        for name in _LINE_FIELDS:
            object.__setattr__(line, name, getattr(self, name))
        object.__setattr__(line, "local_date", local_date)
        return line

    @property
    def vat_key(self) -> tuple[Decimal | None, str]:
        """The VAT group the line belongs to: its rate, or its exemption reason."""
        return (self.vat_rate, self.vat_exemption)


_LINE_FIELDS: Final = tuple(line_field.name for line_field in fields(ChargeLine))


@dataclass(frozen=True, slots=True, kw_only=True)
class VatTotal:
    """The lines of one VAT rate (or one exemption) on a document: gross, net and VAT."""

    vat_rate: Decimal | None
    vat_exemption: str
    total: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Charge:
    """What is billed for ``[started_at, ended_at)`` in ``currency``, as lines; total from them.

    ``time_zone`` is the zone whose calendar dates the lines and names the series' year.
    A one-off charge has ``started_at == ended_at``, the instant it was incurred.
    """

    currency: str
    time_zone: str
    started_at: dt.datetime
    ended_at: dt.datetime
    lines: tuple[ChargeLine, ...]
    total: Decimal = field(init=False)

    def __post_init__(self) -> None:
        try:
            money.minor_unit(self.currency)
        except money.UnknownCurrency as exc:
            raise InvalidCharge(exc.message, field="currency") from None
        for name in ("started_at", "ended_at"):
            instant = getattr(self, name)
            if not isinstance(instant, dt.datetime) or instant.utcoffset() is None:
                raise InvalidCharge(f"{name} must be an aware datetime.", field=name)
        if self.ended_at < self.started_at:
            raise InvalidCharge("The period ends before it starts.", field="ended_at")
        lines = tuple(self.lines)
        total = Decimal(0)
        quantum = Decimal(1).scaleb(-money.minor_unit(self.currency))
        for index, line in enumerate(lines):
            if not isinstance(line, ChargeLine):
                raise InvalidCharge(f"lines[{index}] is not a ChargeLine.", field="lines")
            # Lines are checked finite already: quantize alone tells extra decimals.
            if line.amount.quantize(quantum, context=_EXACT) != line.amount:
                raise InvalidCharge(
                    f"lines[{index}].amount {line.amount} has more decimals than "
                    f"{self.currency} allows.",
                    field="lines",
                )
            total = _EXACT.add(total, line.amount)
        if total < 0:
            raise InvalidCharge(
                "A charge cannot total less than zero: correct an invoice with a credit note.",
                field="lines",
            )
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "total", money.round_money(total, self.currency))

    @property
    def vat_totals(self) -> tuple[VatTotal, ...]:
        """Net and VAT per rate (and per exemption) of the charge's lines."""
        return vat_totals(self.lines, self.currency)


def vat_totals(lines: Sequence[ChargeLine], currency: str) -> tuple[VatTotal, ...]:
    """Group ``lines`` by VAT rate (or exemption) and split each group's sum into net and VAT.

    One rounding per rate, on the sum of its lines. Rates come highest first, lines outside
    the scope of VAT last (by reason), so the order never depends on the lines' order.
    """
    sums: dict[tuple[Decimal | None, str], Decimal] = {}
    for line in lines:
        sums[line.vat_key] = _EXACT.add(sums.get(line.vat_key, Decimal(0)), line.amount)
    totals = []
    for (rate, exemption), gross in sorted(sums.items(), key=_highest_rate_first):
        gross = money.round_money(gross, currency)
        if rate is None:
            net, vat = gross, money.round_money(Decimal(0), currency)
        else:
            net, vat = money.split_vat(gross, rate, currency)
        totals.append(
            VatTotal(vat_rate=rate, vat_exemption=exemption, total=gross, net=net, vat=vat)
        )
    return tuple(totals)


def split_by_rate(
    amount: Decimal, totals: Sequence[VatTotal], currency: str
) -> tuple[VatTotal, ...]:
    """Share ``amount`` over the VAT groups of a document in proportion to their totals.

    For a partial credit note: each group gets its share (largest remainder on minor units),
    then its own net and VAT, so that the credit reverses each rate as the invoice applied it.

    Raises:
        InvalidCharge: ``amount`` is not rounded to the currency, or there are no groups.
    """
    if not totals:
        raise InvalidCharge("Nothing to share the amount over.", field="amount")
    try:
        shares = money.allocate(
            amount, [max(group.total, Decimal(0)) for group in totals], currency
        )
    except money.InvalidAmount as exc:
        raise InvalidCharge(exc.message, field="amount") from None
    parts = []
    for group, share in zip(totals, shares, strict=True):
        if group.vat_rate is None:
            net, vat = share, money.round_money(Decimal(0), currency)
        else:
            net, vat = money.split_vat(share, group.vat_rate, currency)
        parts.append(
            VatTotal(
                vat_rate=group.vat_rate,
                vat_exemption=group.vat_exemption,
                total=share,
                net=net,
                vat=vat,
            )
        )
    return tuple(part for part in parts if part.total)


def _highest_rate_first(
    item: tuple[tuple[Decimal | None, str], Decimal],
) -> tuple[int, Decimal, str]:
    (rate, exemption), _ = item
    return (1, Decimal(0), exemption) if rate is None else (0, -rate, exemption)
