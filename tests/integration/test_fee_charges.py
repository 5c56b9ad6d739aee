"""The fee catalogue: versions, caps, VAT treatments, and charges priced from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing import audit, queries
from fleet import fees
from fleet.models import Fee
from rentals import charges as member_charges
from rentals import lifecycle
from rentals.models import MemberCharge, MemberChargeLine
from tests.factories import MemberFactory, TariffFactory, UserFactory, VehicleFactory, ZoneFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 3, 8, 6, tzinfo=UTC)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
DEBOURS = "Débours (CGI art. 267 II 2°)"


@pytest.fixture
def paris():
    return ZoneFactory()


@pytest.fixture
def catalogue(paris):
    """Share Now's and Zipcar's fees, and a fine passed through with its handling fee."""

    def publish(**fee):
        return fees.publish_fee(zone=paris, valid_from=SINCE, now=SINCE, **fee)

    return {
        "drop-off": publish(
            code="drop-off", label="Out-of-zone drop-off", unit_price=Decimal("4.99")
        ),
        "late-return": publish(
            code="late-return", label="Late return", unit="hour", unit_price=Decimal("50.00"),
            cap_per_occurrence=Decimal("150.00"),
        ),
        "fine": publish(
            code="fine", label="Traffic fine passed through", pass_through=True,
            vat=Fee.Vat.OUT_OF_SCOPE, vat_exemption=DEBOURS,
        ),
        "fine-handling": publish(
            code="fine-handling", label="Fine handling", unit_price=Decimal("12.00"),
            vat=Fee.Vat.RATE, vat_rate=Decimal("0.20"),
        ),
    }  # fmt: skip


def charge(member, lines, *, zone=None, rental_id=None, key="", by=None, now=NOW, note=""):
    return member_charges.charge_member(
        member=member,
        zone=zone,
        rental_id=rental_id,
        lines=lines,
        note=note,
        charged_by_id=(by or UserFactory()).pk,
        now=now,
        request_key=key,
    )


def fee(code, **line):
    return member_charges.CatalogueFee(code=code, **line)


def test_a_fine_passed_through_with_no_vat_beside_a_handling_fee_with_vat_on_one_invoice(
    paris, catalogue
):
    recorded = charge(
        MemberFactory(),
        [
            fee("fine", amount=Decimal("35.00"), external_reference="Avis de contravention 7731"),
            fee("fine-handling"),
        ],
        zone=paris,
    )

    invoice = recorded.invoice
    fine, handling = queries.lines_of(invoice)
    assert (fine.kind, fine.description, fine.amount, fine.vat_rate, fine.vat_exemption) == (
        "PASSED_THROUGH",
        "Traffic fine passed through, Avis de contravention 7731",
        Decimal("35.00"),
        None,
        DEBOURS,
    )
    assert (handling.kind, handling.amount, handling.vat_rate) == (
        "FEE",
        Decimal("12.00"),
        Decimal("0.20"),
    )
    # VAT per rate on the invoice: 12.00 at 20 % is 10.00 + 2.00; the fine has none.
    assert [
        (g.vat_rate, g.vat_exemption, g.total, g.net, g.vat) for g in queries.vat_totals_of(invoice)
    ] == [
        (Decimal("0.20"), "", Decimal("12.00"), Decimal("10.00"), Decimal("2.00")),
        (None, DEBOURS, Decimal("35.00"), Decimal("35.00"), Decimal("0.00")),
    ]
    assert (invoice.total, invoice.net, invoice.vat, invoice.vat_rate) == (
        Decimal("47.00"),
        Decimal("45.00"),
        Decimal("2.00"),
        None,
    )
    stored = list(MemberChargeLine.objects.filter(charge=recorded).order_by("position"))
    assert [(line.fee.code, line.amount, line.external_reference) for line in stored] == [
        ("fine", Decimal("35.00"), "Avis de contravention 7731"),
        ("fine-handling", None, ""),
    ]
    assert audit.audit_sequences()[0].clean


@pytest.mark.parametrize(
    ("hours", "amount", "capped"),
    [
        ("1", "50.00", False),
        ("2.5", "125.00", False),
        ("3", "150.00", False),
        ("4", "150.00", True),
    ],
    ids=["one-hour", "two-and-a-half", "at-the-cap", "above-the-cap"],
)
def test_the_cap_per_occurrence_bounds_quantity_times_unit_price(
    paris, catalogue, hours, amount, capped
):
    invoice = charge(
        MemberFactory(), [fee("late-return", quantity=Decimal(hours))], zone=paris
    ).invoice

    (line,) = queries.lines_of(invoice)
    assert (line.quantity, line.unit, line.unit_price, line.amount) == (
        Decimal(hours),
        "hour",
        Decimal("50.00"),
        Decimal(amount),
    )
    assert bool(line.details.get("capped")) is capped
    assert invoice.total == Decimal(amount)


def test_a_fee_at_the_zones_rate_takes_the_rate_in_force_when_charged(paris, catalogue):
    invoice = charge(MemberFactory(), [fee("drop-off")], zone=paris).invoice
    paris.vat_rate = Decimal("0.10")
    paris.save()
    later = charge(MemberFactory(), [fee("drop-off")], zone=paris).invoice

    assert [queries.lines_of(i)[0].vat_rate for i in (invoice, later)] == [
        Decimal("0.20"),
        Decimal("0.10"),
    ]


def test_the_version_in_force_at_the_charge_prices_it(paris, catalogue):
    fees.publish_fee(
        zone=paris, code="drop-off", label="Out-of-zone drop-off", unit_price=Decimal("5.49"),
        valid_from=NOW + timedelta(seconds=1), now=NOW,
    )  # fmt: skip

    before = charge(MemberFactory(), [fee("drop-off")], zone=paris).invoice
    after = charge(MemberFactory(), [fee("drop-off")], zone=paris, now=NOW + timedelta(seconds=1))

    assert (before.total, after.invoice.total) == (Decimal("4.99"), Decimal("5.49"))


@pytest.mark.parametrize(
    ("line", "error", "field"),
    [
        (fee("drop-off", amount=Decimal("3.00")), member_charges.AmbiguousCharge, "amount"),
        (fee("fine", external_reference="x"), member_charges.AmbiguousCharge, "amount"),
        (
            fee("fine", amount=Decimal("35.00")),
            member_charges.AmbiguousCharge,
            "external_reference",
        ),
        (
            fee("fine", amount=Decimal("35.00"), external_reference="x", quantity=Decimal(2)),
            member_charges.AmbiguousCharge,
            "quantity",
        ),
        (fee("cleaning"), fees.UnknownFee, "fee"),
        (
            fee("drop-off", quantity=Decimal("0.00001")),
            member_charges.InvalidMemberCharge,
            "quantity",
        ),
    ],
    ids=[
        "an-amount-for-a-priced-fee",
        "a-cost-without-its-amount",
        "a-cost-without-its-reference",
        "a-cost-twice",
        "an-unknown-fee",
        "too-many-decimals",
    ],
)
def test_a_charge_that_could_mean_two_things_or_nothing_is_refused_and_nothing_is_issued(
    paris, catalogue, line, error, field
):
    with pytest.raises(error) as refused:
        charge(MemberFactory(), [fee("drop-off"), line], zone=paris)

    assert refused.value.details["field"] == field
    assert not MemberCharge.objects.exists()
    assert audit.audit_sequences() == []


def test_a_fee_not_yet_in_force_is_unknown(paris, catalogue):
    with pytest.raises(fees.UnknownFee):
        charge(MemberFactory(), [fee("drop-off")], zone=paris, now=SINCE - timedelta(seconds=1))


@pytest.fixture
def ended_rental(paris):
    TariffFactory(zone=paris)
    vehicle = VehicleFactory(zone=paris)
    member = MemberFactory()
    started = NOW - timedelta(hours=3)
    rental = lifecycle.start_rental(
        member=member, plate=vehicle.plate, started_at=None, now=started
    )
    return lifecycle.end_rental(
        member=member, rental_id=rental.pk, ended_at=None, now=started + timedelta(minutes=30)
    )


def test_a_charge_related_to_a_rental_is_billed_in_the_rentals_zone(catalogue, ended_rental):
    recorded = charge(ended_rental.member, [fee("drop-off")], rental_id=ended_rental.pk)

    assert (recorded.rental_id, recorded.zone.code, recorded.invoice.series) == (
        ended_rental.pk,
        "paris",
        "PAR-2026",
    )


def test_a_rental_of_another_member_or_of_another_zone_is_refused(catalogue, ended_rental):
    with pytest.raises(member_charges.UnknownRental):
        charge(MemberFactory(), [fee("drop-off")], rental_id=ended_rental.pk)
    lyon = ZoneFactory(code="lyon")
    with pytest.raises(member_charges.AmbiguousCharge):
        charge(ended_rental.member, [fee("drop-off")], rental_id=ended_rental.pk, zone=lyon)
    with pytest.raises(member_charges.InvalidMemberCharge):
        charge(ended_rental.member, [fee("drop-off")])  # neither a zone nor a rental


def test_the_same_key_with_another_request_is_refused_and_with_the_same_returns_the_charge(
    paris, catalogue
):
    member, finance = MemberFactory(), UserFactory()
    first = charge(member, [fee("drop-off")], zone=paris, key="k", by=finance)

    again = charge(member, [fee("drop-off")], zone=paris, key="k", by=finance)
    with pytest.raises(member_charges.ChargeRequestReused):
        charge(member, [fee("late-return")], zone=paris, key="k", by=finance)

    assert again.pk == first.pk and MemberCharge.objects.count() == 1


@pytest.mark.parametrize(
    ("fee_fields", "field"),
    [
        ({"unit_price": Decimal("4.999")}, "unit_price"),
        ({"unit_price": None}, "unit_price"),
        ({"unit_price": Decimal("1.00"), "unit": "parsec"}, "unit"),
        ({"pass_through": True, "unit_price": Decimal("1.00")}, "unit_price"),
        ({"unit_price": Decimal("1.00"), "vat": Fee.Vat.RATE}, "vat_rate"),
        ({"unit_price": Decimal("1.00"), "vat_rate": Decimal("0.10")}, "vat_rate"),
        ({"unit_price": Decimal("1.00"), "vat": Fee.Vat.OUT_OF_SCOPE}, "vat_exemption"),
        ({"unit_price": Decimal("1.00"), "vat_exemption": "why not"}, "vat_exemption"),
        ({"unit_price": Decimal(1), "cap_per_occurrence": Decimal(-1)}, "cap_per_occurrence"),
    ],
    ids=[
        "sub-cent-price", "no-price", "unknown-unit", "priced-pass-through", "rate-without-rate",
        "rate-without-vat-rate", "out-of-scope-without-reason", "reason-with-vat", "negative-cap",
    ],
)  # fmt: skip
def test_a_fee_that_cannot_be_charged_is_refused_naming_its_field(paris, fee_fields, field):
    with pytest.raises(fees.InvalidFee) as refused:
        fees.publish_fee(zone=paris, code="x", label="X", valid_from=SINCE, now=SINCE, **fee_fields)

    assert refused.value.details["field"] == field
    assert not Fee.objects.exists()


def test_a_second_version_at_the_same_instant_is_refused(paris, catalogue):
    with pytest.raises(fees.FeeExists):
        fees.publish_fee(
            zone=paris, code="drop-off", label="Again", unit_price=Decimal("1.00"),
            valid_from=SINCE, now=SINCE,
        )  # fmt: skip


def test_the_longest_label_and_reference_fit_an_invoice_line_and_a_longer_line_is_refused(paris):
    fees.publish_fee(
        zone=paris, code="towing", label="T" * 120, pass_through=True, vat=Fee.Vat.OUT_OF_SCOPE,
        vat_exemption=DEBOURS, valid_from=SINCE, now=SINCE,
    )  # fmt: skip

    recorded = charge(
        MemberFactory(),
        [fee("towing", amount=Decimal("150.00"), external_reference="R" * 60)],
        zone=paris,
    )
    too_long = member_charges.FeeLine(
        description="D" * 201, unit_price=Decimal("1.00"), vat_rate=Decimal("0.20")
    )

    assert len(queries.lines_of(recorded.invoice)[0].description) == 182
    with pytest.raises(member_charges.InvalidMemberCharge):
        charge(MemberFactory(), [too_long], zone=paris)
