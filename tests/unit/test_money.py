"""Money: one rounding rule, strings only, splits that never lose a cent."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import (
    MINOR_UNITS,
    InvalidAmount,
    UnknownCurrency,
    allocate,
    minor_unit,
    parse_money,
    round_money,
    split_vat,
)
from core.errors import DomainError


@pytest.mark.parametrize(
    ("currency", "decimals"),
    [
        ("EUR", 2), ("USD", 2), ("GBP", 2), ("CHF", 2), ("HUF", 2), ("NPR", 2), ("WST", 2),
        ("INR", 2), ("BRL", 2), ("JPY", 0), ("KRW", 0), ("ISK", 0), ("CLP", 0), ("BHD", 3),
        ("KWD", 3), ("TND", 3), ("JOD", 3), ("OMR", 3),
    ],
)  # fmt: skip
def test_minor_unit_is_the_iso_4217_exponent(currency: str, decimals: int) -> None:
    assert minor_unit(currency) == decimals == MINOR_UNITS[currency]


@pytest.mark.parametrize("currency", ["XYZ", "eur", "", "EURO"])
def test_unknown_currencies_are_refused_with_a_stable_code(currency: str) -> None:
    with pytest.raises(UnknownCurrency) as refused:
        minor_unit(currency)

    assert refused.value.code == "unknown_currency"
    assert isinstance(refused.value, DomainError)
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("0.125", "EUR", "0.13"),
        ("0.135", "EUR", "0.14"),
        ("0.124999", "EUR", "0.12"),
        ("-0.125", "EUR", "-0.13"),
        ("1", "EUR", "1.00"),
        ("2.5", "JPY", "3"),
        ("3.5", "JPY", "4"),
        ("0.0005", "BHD", "0.001"),
        ("123456789012345678901234567890.125", "EUR", "123456789012345678901234567890.13"),
    ],
)
def test_round_money_rounds_half_up_to_the_minor_unit(
    amount: str, currency: str, rounded: str
) -> None:
    result = round_money(Decimal(amount), currency)

    assert str(result) == rounded


def test_round_money_ignores_the_callers_decimal_context() -> None:
    with localcontext() as context:
        context.prec = 3
        context.rounding = "ROUND_DOWN"
        assert str(round_money(Decimal("12345.675"), "EUR")) == "12345.68"


@pytest.mark.parametrize("amount", [0.125, 1, Decimal("NaN"), Decimal("-Infinity")])
def test_round_money_refuses_what_is_not_a_finite_decimal(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        round_money(amount, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["6.00", "0", "-1.5", "1234567.891", "0.50"])
def test_parse_money_reads_plain_decimal_strings_exactly(text: str) -> None:
    assert parse_money(text) == Decimal(text)
    assert str(parse_money(text)) == text


@pytest.mark.parametrize(
    "value",
    [
        6.0, 6, True, None, Decimal("6.00"), b"6.00",
        "NaN", "nan", "Infinity", "-inf", "sNaN", "1e3", "", " 6.00", "6.00 ", "6,00", "six",
        "1_000", "+1", ".5", "5.", "\u0663",
    ],
)  # fmt: skip
def test_parse_money_refuses_anything_but_a_plain_decimal_string(value: object) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_money(value)  # type: ignore[arg-type]

    assert refused.value.code == "invalid_amount"
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("total", "weights", "currency", "parts"),
    [
        ("10.00", ["1", "1", "1"], "EUR", ["3.34", "3.33", "3.33"]),
        ("0.25", ["0.125", "0.125"], "EUR", ["0.13", "0.12"]),
        ("1.00", ["1", "3"], "EUR", ["0.25", "0.75"]),
        # Exact shares 0.333..., 0.666...: the larger remainder (second) gets the cent.
        ("1.00", ["1", "2"], "EUR", ["0.33", "0.67"]),
        ("100", ["1", "1", "1"], "JPY", ["34", "33", "33"]),
        ("0.010", ["0", "5", "5"], "BHD", ["0.000", "0.005", "0.005"]),
        ("-10.00", ["1", "1", "1"], "EUR", ["-3.34", "-3.33", "-3.33"]),
        ("0.00", ["1", "2"], "EUR", ["0.00", "0.00"]),
        # All weights zero: equal split, leftover to the first parts.
        ("0.05", ["0", "0"], "EUR", ["0.03", "0.02"]),
        ("0.00", ["0", "0"], "EUR", ["0.00", "0.00"]),
        ("0.00", [], "EUR", []),
    ],
)
def test_allocate_splits_by_largest_remainder_ties_to_the_first(
    total: str, weights: list[str], currency: str, parts: list[str]
) -> None:
    result = allocate(Decimal(total), [Decimal(w) for w in weights], currency)

    assert [str(part) for part in result] == parts


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        pytest.param("1.005", ["1"], id="total-not-rounded"),
        pytest.param("1.00", [], id="no-weights"),
        pytest.param("1.00", ["-1", "2"], id="negative-weight"),
        pytest.param("1.00", ["NaN"], id="nan-weight"),
    ],
)
def test_allocate_refuses_what_it_cannot_split_exactly(total: str, weights: list[str]) -> None:
    with pytest.raises(InvalidAmount):
        allocate(Decimal(total), [Decimal(w) for w in weights], "EUR")


currencies = st.sampled_from(["EUR", "JPY", "BHD"])


@settings(max_examples=300)
@given(
    currency=currencies,
    units=st.integers(-(10**9), 10**9),
    weights=st.lists(st.decimals(min_value=0, max_value=10**6, places=5), max_size=8),
)
def test_allocated_parts_sum_exactly_to_the_total_each_within_a_unit_of_its_share(
    currency: str, units: int, weights: list[Decimal]
) -> None:
    quantum = Decimal(1).scaleb(-minor_unit(currency))
    total = units * quantum
    if not weights:
        weights = [Decimal(1)]

    parts = allocate(total, weights, currency)

    assert sum(parts, Decimal(0)) == total
    assert all(part.as_tuple().exponent == quantum.as_tuple().exponent for part in parts)
    weight_sum = sum(weights, Decimal(0))
    if weight_sum:
        for part, weight in zip(parts, weights, strict=True):
            with localcontext() as context:
                context.prec = 60
                assert abs(part - total * weight / weight_sum) < quantum


@pytest.mark.parametrize(
    ("total", "vat_rate", "currency", "net", "vat"),
    [
        ("6.00", "0.20", "EUR", "5.00", "1.00"),
        ("1.00", "0.20", "EUR", "0.83", "0.17"),
        ("0.05", "0.20", "EUR", "0.04", "0.01"),
        ("0.00", "0.20", "EUR", "0.00", "0.00"),
        ("10.00", "0", "EUR", "10.00", "0.00"),
        # 0.01 / 2 = 0.005 exactly: half-up gives 0.01 net, 0.00 VAT.
        ("0.01", "1", "EUR", "0.01", "0.00"),
        ("1000", "0.10", "JPY", "909", "91"),
        ("1.000", "0.10", "BHD", "0.909", "0.091"),
        ("-6.00", "0.20", "EUR", "-5.00", "-1.00"),
        ("-0.01", "1", "EUR", "-0.01", "0.00"),
    ],
)
def test_split_vat_rounds_the_net_half_up_and_keeps_the_rest_as_vat(
    total: str, vat_rate: str, currency: str, net: str, vat: str
) -> None:
    assert split_vat(Decimal(total), Decimal(vat_rate), currency) == (Decimal(net), Decimal(vat))
    result = split_vat(Decimal(total), Decimal(vat_rate), currency)
    assert [str(part) for part in result] == [net, vat]


@pytest.mark.parametrize(
    ("total", "vat_rate"),
    [("1.005", "0.20"), ("1.00", "-0.20"), ("1.00", "NaN"), ("NaN", "0.20")],
)
def test_split_vat_refuses_unrounded_totals_and_odd_rates(total: str, vat_rate: str) -> None:
    with pytest.raises(InvalidAmount):
        split_vat(Decimal(total), Decimal(vat_rate), "EUR")


@settings(max_examples=300)
@given(
    currency=currencies,
    units=st.integers(-(10**9), 10**9),
    vat_rate=st.decimals(min_value=0, max_value=1, places=4),
)
def test_net_plus_vat_is_the_total_and_net_is_the_rounded_exact_quotient(
    currency: str, units: int, vat_rate: Decimal
) -> None:
    quantum = Decimal(1).scaleb(-minor_unit(currency))
    total = units * quantum

    net, vat = split_vat(total, vat_rate, currency)

    assert net + vat == total
    with localcontext() as context:
        context.prec = 60
        assert abs(net - total / (1 + vat_rate)) <= quantum / 2
