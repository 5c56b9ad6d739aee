"""A client generated from the schema runs the members' and finance flow, unedited.

Against a live server (pytest-django's ``live_server``, a thread of this process, so
time-machine's clock applies to it too): token, a quote across the Paris fall-back night,
start, end with an ``Idempotency-Key``, its replay, the invoice listed and read; then finance
credits and exports it, and an auditor audits the series. Every call goes through the
generated package, and every answer is parsed into its generated model.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.core.cache import cache

from tests.client.conftest import module
from tests.conftest import staff
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory

pytestmark = pytest.mark.django_db(transaction=True)

CEST, CET = timezone(timedelta(hours=2)), timezone(timedelta(hours=1))
# The Paris fall-back night: 02:50 summer time, then 02:10 winter time, 20 minutes later.
STARTED_AT = datetime(2026, 10, 25, 2, 50, tzinfo=CEST)
ENDED_AT = datetime(2026, 10, 25, 2, 10, tzinfo=CET)
NOW = datetime(2026, 10, 25, 3, 0, tzinfo=CET)  # rentals refuse instants in the future


@pytest.fixture
def paris(transactional_db):
    cache.clear()  # the token endpoint's throttle counts in the shared cache
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    return VehicleFactory(zone=zone)


@time_machine.travel(NOW, tick=False)
def test_a_generated_client_runs_the_paris_fall_back_night_from_quote_to_audit(api, paris):
    models = module("models")
    member = api.log_in(MemberFactory().user.username)

    quote = module("api.quotes.quotes_create").sync(
        client=member,
        body=models.QuoteRequest(vehicle=paris.plate, started_at=STARTED_AT, ended_at=ENDED_AT),
    )
    assert isinstance(quote, models.Quote), quote
    assert (quote.minutes, quote.total, quote.currency) == (20, "5.00", "EUR")
    assert quote.ended_at - quote.started_at == timedelta(minutes=20)
    assert quote.started_at == STARTED_AT and quote.started_at.utcoffset() == timedelta(0)
    assert quote.started_at_local.utcoffset() == timedelta(hours=2)
    assert quote.ended_at_local.utcoffset() == timedelta(hours=1)

    started = module("api.rentals.rentals_create").sync_detailed(
        client=member, body=models.StartRequest(vehicle=paris.plate, started_at=STARTED_AT)
    )
    assert started.status_code == 201, started.content
    rental = started.parsed
    assert isinstance(rental, models.Rental), rental
    assert rental.status == models.RentalStatusEnum.OPEN
    assert rental.ended_at is None and rental.invoice is None

    end = module("api.rentals.rentals_end_create")
    ended = end.sync_detailed(
        id=rental.id,
        client=member,
        body=models.EndRequest(ended_at=ENDED_AT),
        idempotency_key="end-fall-back-night",
    )
    replayed = end.sync_detailed(
        id=rental.id,
        client=member,
        body=models.EndRequest(ended_at=ENDED_AT),
        idempotency_key="end-fall-back-night",
    )

    assert ended.status_code == 200, ended.content
    assert "Idempotent-Replayed" not in ended.headers
    closed = ended.parsed
    assert isinstance(closed, models.Rental), closed
    assert closed.status == models.RentalStatusEnum.ENDED
    assert (closed.minutes, closed.total) == (20, "5.00")
    assert closed.ended_at_local == ENDED_AT
    assert closed.ended_at_local.utcoffset() == timedelta(hours=1)
    assert isinstance(closed.invoice, models.Invoice)
    assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (200, "true")
    assert replayed.content == ended.content
    assert replayed.parsed.to_dict() == closed.to_dict()

    listed = module("api.invoices.invoices_list").sync(client=member)
    assert isinstance(listed, models.PaginatedInvoiceList), listed
    assert [invoice.number for invoice in listed.results] == [closed.invoice.number]
    invoice = module("api.invoices.invoices_retrieve").sync(
        number=closed.invoice.number, client=member
    )
    assert isinstance(invoice, models.Invoice), invoice
    assert (invoice.minutes, invoice.total, invoice.net, invoice.vat) == (
        20,
        "5.00",
        "4.17",
        "0.83",
    )
    assert invoice.period_ended_at - invoice.period_started_at == timedelta(minutes=20)
    assert invoice.issued_at.tzinfo is not None and invoice.issued_at_local.tzinfo is not None
    assert invoice.rental == rental.id

    finance = api.log_in(staff("finance").username)
    credited = module("api.invoices.invoices_credit_notes_create").sync_detailed(
        number=invoice.number,
        client=finance,
        body=models.CreditNoteRequest(amount="1.00", reason="A goodwill gesture."),
        idempotency_key="credit-fall-back-night",
    )
    assert credited.status_code == 201, credited.content
    note = credited.parsed
    assert isinstance(note, models.CreditNote), note
    assert (note.invoice, note.total) == (invoice.number, "1.00")
    assert note.series == f"AV-{invoice.series}"

    exported = module("api.invoices.invoices_export").sync_detailed(
        client=finance, series=invoice.series
    )
    assert exported.status_code == 200, exported.content
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.parsed)))
    assert [row["number"] for row in rows] == [invoice.number, note.number]

    auditor = api.log_in(staff("auditor").username)
    reports = module("api.audit.audit_sequences_list").sync(client=auditor)
    assert all(isinstance(report, models.SeriesReport) for report in reports), reports
    assert {report.series: report.clean for report in reports} == {
        invoice.series: True,
        note.series: True,
    }


@time_machine.travel(NOW, tick=False)
def test_a_generated_client_tells_a_domain_error_by_its_code_from_field_errors(api, paris):
    models = module("models")
    member = api.log_in(MemberFactory().user.username)
    quote = module("api.quotes.quotes_create")

    # 02:10 without an offset happened twice that night: a domain error, with its code.
    ambiguous = quote.sync(
        client=member,
        body=models.QuoteRequest(
            vehicle=paris.plate, started_at=STARTED_AT, ended_at=datetime(2026, 10, 25, 2, 10)
        ),
    )
    blank = quote.sync(client=member, body=models.QuoteRequest(vehicle=""))
    anonymous = quote.sync(client=api.anonymous(), body=models.QuoteRequest(vehicle=paris.plate))

    assert isinstance(ambiguous, models.Error), ambiguous
    assert ambiguous.code == "ambiguous_local_time"
    assert ambiguous.additional_properties["candidate_offsets"] == ["+02:00", "+01:00"]
    assert isinstance(blank, models.FieldErrors), blank
    assert list(blank.additional_properties) == ["vehicle", "code"]
    assert blank.additional_properties["code"] == "blank"
    assert isinstance(anonymous, models.Error) and anonymous.code == "not_authenticated"
