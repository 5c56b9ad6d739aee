"""Money as ``Decimal``: parse, round with the one rule, split without losing a cent, format.

Pure Python (no Django). Amounts are ``Decimal`` from the edge to the database, built
from strings, never floats. The one rounding rule is ``ROUND_HALF_UP`` (ties away from
zero) to the currency's ISO 4217 minor unit. Splits and VAT are computed on integers
of minor units, so they are exact whatever the caller's ``decimal`` context.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal
from typing import Final

from core.errors import DomainError

__all__ = [
    "MINOR_UNITS",
    "InvalidAmount",
    "UnknownCurrency",
    "allocate",
    "format_amount",
    "format_rate",
    "format_vat_rate",
    "minor_unit",
    "parse_money",
    "round_money",
    "split_vat",
]

#: ISO 4217 exponents: how many decimals an amount in the currency carries.
MINOR_UNITS: dict[str, int] = {
    # Zero decimals.
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0,
    # Two decimals.
    "AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2,
    "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "FJD": 2, "GBP": 2, "HKD": 2,
    "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "KES": 2, "MAD": 2, "MXN": 2, "MYR": 2,
    "NGN": 2, "NOK": 2, "NPR": 2, "NZD": 2, "PEN": 2, "PHP": 2, "PLN": 2, "QAR": 2,
    "RON": 2, "RSD": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TOP": 2, "TRY": 2,
    "TWD": 2, "UAH": 2, "USD": 2, "UYU": 2, "WST": 2, "ZAR": 2,
    # Three decimals.
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # Four decimals (units of account).
    "CLF": 4, "UYW": 4,
}  # fmt: skip

# Wide enough that add, multiply, scaleb and quantize never round: results stay exact.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_QUANTA: Final = {exp: Decimal(1).scaleb(-exp) for exp in set(MINOR_UNITS.values())}
# Plain decimal notation only: no exponent, no underscores, no NaN/Infinity, ASCII digits.
_MONEY_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


class UnknownCurrency(DomainError, ValueError):
    """The currency code is not in ``MINOR_UNITS``."""

    code = "unknown_currency"


class InvalidAmount(DomainError, ValueError):
    """The value is not a usable money amount (a float, NaN, too many decimals...)."""

    code = "invalid_amount"


def minor_unit(currency: str) -> int:
    """Return how many decimals an amount in ``currency`` carries (ISO 4217 exponent).

    Raises:
        UnknownCurrency: ``currency`` is not a code of ``MINOR_UNITS``.
    """
    try:
        return MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise UnknownCurrency(
            f"Unknown currency {currency!r}: expected an ISO 4217 code such as 'EUR'.",
            currency=currency,
        ) from None


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half-up (ties away from zero) to the minor unit of ``currency``.

    This is the one rounding rule of the codebase: every rounded amount goes through it.

    Raises:
        InvalidAmount: ``amount`` is not a finite ``Decimal``.
        UnknownCurrency: ``currency`` is unknown.
    """
    _check_decimal(amount, "amount")
    exp = minor_unit(currency)
    quantum = _QUANTA.get(exp) or Decimal(1).scaleb(-exp)
    return amount.quantize(quantum, ROUND_HALF_UP, _EXACT)


def parse_money(value: str) -> Decimal:
    """Parse a money string such as ``"6.00"`` or ``"-0.5"`` into an exact ``Decimal``.

    Only plain decimal notation is accepted; the number of decimals is not checked here
    (use ``round_money`` or compare with it for that).

    Raises:
        InvalidAmount: ``value`` is not a ``str`` (floats, ints and bools are refused, so
            that binary floating point never reaches an amount), or is not a finite
            number in plain decimal notation.
    """
    if not isinstance(value, str):
        raise InvalidAmount(
            f"Money amounts must be strings such as '6.00', not {type(value).__name__}.",
            value=repr(value),
        )
    if _MONEY_RE.fullmatch(value) is None:
        raise InvalidAmount(
            f"{value!r} is not a money amount: expected plain decimal notation such as '6.00'.",
            value=value,
        )
    return Decimal(value)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` into parts that sum exactly to it.

    Largest remainder method on minor units: every part gets the floor of its exact
    share, then the units left over go one each to the largest remainders, ties to the
    lowest index. With all weights zero, the split is equal (leftover units to the first
    parts). Each part carries the currency's number of decimals; negative totals are
    split like their absolute value, then negated.

    Raises:
        InvalidAmount: ``total`` is not a finite ``Decimal`` already rounded to the
            currency's minor unit, a weight is not a finite ``Decimal`` >= 0, or there
            are no weights for a non-zero total.
        UnknownCurrency: ``currency`` is unknown.
    """
    exp = minor_unit(currency)
    units = _to_units(total, exp, "total")
    if not weights:
        if units:
            raise InvalidAmount(f"Cannot allocate {total} over no weights.")
        return []
    scaled = _common_integers(weights)
    sign, remaining = (-1, -units) if units < 0 else (1, units)
    weight_sum = sum(scaled)
    if weight_sum == 0:
        base, extra = divmod(remaining, len(scaled))
        parts = [base + (1 if i < extra else 0) for i in range(len(scaled))]
    else:
        shares = [divmod(remaining * w, weight_sum) for w in scaled]
        parts = [share for share, _ in shares]
        leftover = remaining - sum(parts)
        by_remainder = sorted(range(len(shares)), key=lambda i: (-shares[i][1], i))
        for i in by_remainder[:leftover]:
            parts[i] += 1
    return [_from_units(sign * part, exp) for part in parts]


def split_vat(total: Decimal, vat_rate: Decimal, currency: str) -> tuple[Decimal, Decimal]:
    """Split a VAT-inclusive ``total`` into ``(net, vat)``.

    ``net = total / (1 + vat_rate)`` rounded half-up to the minor unit, computed exactly;
    ``vat = total - net``, so the two always add back to the total.

    Raises:
        InvalidAmount: ``total`` is not a finite ``Decimal`` rounded to the currency's
            minor unit, or ``vat_rate`` is not a finite ``Decimal`` >= 0.
        UnknownCurrency: ``currency`` is unknown.
    """
    exp = minor_unit(currency)
    units = _to_units(total, exp, "total")
    _check_decimal(vat_rate, "vat_rate")
    if vat_rate < 0:
        raise InvalidAmount(f"vat_rate must be >= 0, got {vat_rate}.", field="vat_rate")
    num, den = vat_rate.as_integer_ratio()
    # net = units / (1 + num/den) = units * den / (den + num), rounded half-up.
    net_units = _div_half_up(units * den, den + num)
    return _from_units(net_units, exp), _from_units(units - net_units, exp)


def format_amount(amount: Decimal, currency: str) -> str:
    """Format an amount with exactly the currency's decimals ("6.00", "600" for JPY).

    Raises:
        InvalidAmount, UnknownCurrency: as ``round_money``.
    """
    return str(round_money(amount, currency))


def format_rate(rate: Decimal, currency: str) -> str:
    """Format a unit price with the currency's decimals at least ("0.35", "0.125").

    Raises:
        UnknownCurrency: ``currency`` is unknown.
    """
    return _at_least(rate, minor_unit(currency))


def format_vat_rate(vat_rate: Decimal) -> str:
    """Format a VAT rate as a fraction with two decimals at least ("0.20", "0.055")."""
    return _at_least(vat_rate, 2)


def _at_least(value: Decimal, places: int) -> str:
    """Format ``value`` with ``places`` decimals at least, more only if it needs them."""
    needed = max(places, -int(value.normalize().as_tuple().exponent))
    return str(value.quantize(Decimal(1).scaleb(-needed), context=_EXACT))


def _check_decimal(value: object, name: str) -> None:
    if not isinstance(value, Decimal):
        raise InvalidAmount(f"{name} must be a Decimal, not {type(value).__name__}.", field=name)
    if not value.is_finite():
        raise InvalidAmount(f"{name} must be finite, got {value}.", field=name)


def _to_units(amount: Decimal, exp: int, name: str) -> int:
    """Return ``amount`` as an integer number of minor units, refusing extra decimals."""
    _check_decimal(amount, name)
    num, den = amount.as_integer_ratio()
    scale: int = 10**exp
    units, rest = divmod(num * scale, den)
    if rest:
        raise InvalidAmount(
            f"{name} {amount} has more than {exp} decimals: round it with round_money first.",
            field=name,
        )
    return units


def _from_units(units: int, exp: int) -> Decimal:
    return Decimal(units).scaleb(-exp, _EXACT)


def _common_integers(weights: Sequence[Decimal]) -> list[int]:
    """Scale the weights by one common factor so that they all become integers."""
    ratios = []
    for weight in weights:
        _check_decimal(weight, "weight")
        if weight < 0:
            raise InvalidAmount(f"Weights must be >= 0, got {weight}.", field="weight")
        ratios.append(weight.as_integer_ratio())
    common = math.lcm(*(den for _, den in ratios))
    return [num * (common // den) for num, den in ratios]


def _div_half_up(num: int, den: int) -> int:
    """Divide integers, rounding ties away from zero (``den`` > 0)."""
    quotient, rest = divmod(abs(num), den)
    if 2 * rest >= den:
        quotient += 1
    return -quotient if num < 0 else quotient
