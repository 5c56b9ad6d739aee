"""On PostgreSQL the export comes formatted from COPY: byte for byte the CSV of Python's path.

The documents are chosen to stress every formatting rule: names with commas, quotes, line
breaks, spreadsheet formulas and nothing at all; currencies with 0, 2 and 3 decimals; zones
with odd offsets (+05:45, -03:30) and a DST night; instants with and without microseconds;
invoices with one VAT rate, several, and a fraction of a percent; credit notes of each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from billing import charges, exports
from tests.books import CLEANING, FINE, PARKING, credit_at, invoice_at, line
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NAMES = [
    "Alice Martin",
    "Dupont, Jean",
    'Say "cheese"',
    "Two\nlines",
    "Carriage\rreturn",
    '=HYPERLINK("http://x")',
    "+33 1 23 45 67 89",
    "-minus",
    "@at",
    "\ttab first",
    "",
    "  spaced  ",
    "Zoë Ünïcode, “quoted”",
    'Ends with a quote"',
]


@pytest.fixture
def documents(db_clock):
    user = UserFactory()
    made = []
    instants = [
        datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),  # just before the Paris spring-forward
        datetime(2026, 10, 25, 0, 30, 0, 123456, tzinfo=UTC),  # inside the repeated hour
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # 2027 in Paris
        datetime(2026, 6, 1, 12, 0, 0, 1, tzinfo=UTC),
    ]
    half_percent = line("10.01", "0.055", description="Books")
    for index, name in enumerate(NAMES):
        made.append(
            invoice_at(
                db_clock,
                instants[index % len(instants)],
                user.pk,
                billing_name=name,
                lines=[(CLEANING,), (CLEANING, FINE), (PARKING, half_percent), (half_percent,)][
                    index % 4
                ],
            )
        )
    for time_zone, currency, prefix, amount in (
        ("Asia/Kathmandu", "JPY", "KTM", "700"),
        ("America/St_Johns", "BHD", "SJN", "1.255"),
        ("Australia/Lord_Howe", "EUR", "LHI", "3.30"),
    ):
        made.append(
            invoice_at(
                db_clock,
                datetime(2026, 4, 4, 15, 15, 15, 150000, tzinfo=UTC),
                user.pk,
                prefix=prefix,
                time_zone=time_zone,
                currency=currency,
                billing_name=f"Member in {time_zone}",
                lines=(
                    charges.ChargeLine(
                        kind="FEE",
                        description="Fee",
                        quantity=Decimal(1),
                        unit="unit",
                        unit_price=Decimal(amount),
                        amount=Decimal(amount),
                        vat_rate=Decimal("0.10"),
                    ),
                ),
            )
        )
    credit_at(db_clock, datetime(2027, 1, 2, 8, 0, tzinfo=UTC), made[1], "5.00", user.pk)
    credit_at(db_clock, datetime(2026, 11, 1, 9, 0, 0, 500, tzinfo=UTC), made[2], "1.00", user.pk)
    credit_at(db_clock, datetime(2026, 5, 1, 9, 0, tzinfo=UTC), made[-3], "100", user.pk)
    return made


def python_export(**period):
    return "".join(exports.export_rows(**period)).encode()


@pytest.mark.parametrize(
    "period",
    [
        {},
        {
            "issued_from": datetime(2026, 6, 1, tzinfo=UTC),
            "issued_to": datetime(2027, 1, 1, tzinfo=UTC),
        },
        {"series": "PAR-2026"},
        {"series": "AV-PAR-2027"},
        {"series": "NONE-2026"},
    ],
    ids=["everything", "a-period", "a-series-and-its-credit-notes", "credit-notes-only", "empty"],
)
def test_the_copy_export_is_the_python_export_byte_for_byte(documents, period):
    copied = b"".join(exports.export_bytes(**period))

    assert copied == python_export(**period)
    assert copied.count(b"\r\n") >= 1


def test_every_document_is_exported_and_counted(documents):
    counter = [0]

    copied = b"".join(exports.export_bytes(counter=counter))

    assert counter[0] == len(documents) + 3
    assert b"'=HYPERLINK" in copied and b"Two\nlines" in copied


def test_the_command_writes_the_same_bytes(documents, tmp_path):
    target = tmp_path / "export.csv"

    call_command("export_invoices", "--output", str(target))

    assert target.read_bytes() == python_export()
