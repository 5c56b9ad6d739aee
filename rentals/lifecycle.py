"""Rental use cases: start, end (close, price, invoice in one transaction), quote.

Each public function is one use case: the views call exactly one of them, passing the
clock reading ``now`` they took once. Transactions begin here and nowhere below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from billing import charges, invoicing, money, numbering, pricing
from core import events, transactions
from core.errors import ConflictError, DomainError, NotFoundError
from core.localtime import resolve_wall_time, utc_iso
from fleet import members, tariffs
from fleet.models import Member, Vehicle
from rentals.models import Rental

SUBJECT_KIND = "rental"


class UnknownVehicle(DomainError):
    """No vehicle has that plate."""

    code = "unknown_vehicle"


class VehicleUnavailable(DomainError):
    """The vehicle is in maintenance or retired."""

    code = "vehicle_unavailable"


class VehicleBusy(ConflictError):
    """The vehicle is in another open rental."""

    code = "vehicle_busy"


class MemberHasOpenRental(ConflictError):
    """The member already has an open rental."""

    code = "member_has_open_rental"


class RentalNotFound(NotFoundError):
    """No such rental among the member's."""

    code = "rental_not_found"


class RentalAlreadyEnded(ConflictError):
    """The rental ended at another instant."""

    code = "rental_already_ended"


class InvalidPeriod(DomainError):
    """An instant in the future, or a start too far in the past."""

    code = "invalid_period"


class RentalTooLong(DomainError):
    """A quote for longer than the longest rental accepted."""

    code = "rental_too_long"


@dataclass(frozen=True, slots=True)
class Quote:
    """The price of a would-be rental of a vehicle, and its billable minutes."""

    charge: charges.Charge
    vehicle: Vehicle
    minutes: int


@transactions.use_case
def start_rental(
    *, member: Member, plate: str, started_at: datetime | None, now: datetime
) -> Rental:
    """Open a rental of a vehicle for a member, under the tariff in force at its start.

    Raises:
        UnknownVehicle, VehicleUnavailable: no such plate, or the car is not in service.
        VehicleBusy, MemberHasOpenRental: an open rental exists (checked by the database).
        NonexistentLocalTime, AmbiguousLocalTime: wall-clock input a clock change blurs.
        InvalidPeriod: a start in the future or more than MAX_RENTAL_DAYS in the past.
        NoTariff: no tariff for the member's plan in the vehicle's zone at the start.
    """
    vehicle = _vehicle(plate)
    if vehicle.status != Vehicle.Status.AVAILABLE:
        raise VehicleUnavailable(
            f"Vehicle {plate} is {vehicle.get_status_display().lower()}.", status=vehicle.status
        )
    start = _instant(started_at, vehicle.zone.time_zone, now=now, field="started_at")
    if start < now - _max_duration():
        raise InvalidPeriod(
            f"started_at is more than {_max_duration().days} days ago.", field="started_at"
        )
    tariff = tariffs.tariff_in_force(zone=vehicle.zone, plan=member.plan, at=start)
    # The same start sent again (a retry whose first answer was lost) is that rental.
    same = Rental.objects.filter(
        member=member, vehicle=vehicle, status=Rental.Status.OPEN, started_at=start
    ).first()
    if started_at is not None and same is not None:
        return same
    if Rental.objects.filter(vehicle=vehicle, status=Rental.Status.OPEN).exists():
        raise VehicleBusy(f"Vehicle {plate} is in an open rental.")
    if Rental.objects.filter(member=member, status=Rental.Status.OPEN).exists():
        raise MemberHasOpenRental("You already have an open rental; end it first.")
    try:
        # A savepoint: the checks above race between app servers, the partial unique
        # indexes do not, and their refusal must not break the transaction.
        with transaction.atomic():
            rental = Rental.objects.create(
                member=member, vehicle=vehicle, tariff=tariff, started_at=start, created_at=now
            )
    except IntegrityError as exc:
        # PostgreSQL names the constraint, SQLite the column.
        refused = str(exc)
        if "rental_one_open_per_vehicle" in refused or "rentals_rental.vehicle_id" in refused:
            raise VehicleBusy(f"Vehicle {plate} is in an open rental.") from exc
        if "rental_one_open_per_member" in refused or "rentals_rental.member_id" in refused:
            raise MemberHasOpenRental("You already have an open rental; end it first.") from exc
        raise

    # Webhooks after commit: one job row, committed (or not) with the rental.
    events.publish(
        event_type="rental.started",
        subject=rental.pk,
        occurred_at=start,
        data={
            "rental": rental.pk,
            "member": member.user_id,
            "vehicle": plate,
            "zone": vehicle.zone.code,
            "started_at": utc_iso(start),
        },
    )

    return rental


@transactions.use_case
def end_rental(
    *, member: Member, rental_id: int, ended_at: datetime | None, now: datetime
) -> Rental:
    """Close, price and invoice a rental in one transaction; a same-instant repeat is a no-op.

    Raises:
        RentalNotFound: no such rental among the member's.
        RentalAlreadyEnded: it ended at another instant.
        EndsBeforeStart, InvalidPeriod: the end is before the start, or in the future.
        NonexistentLocalTime, AmbiguousLocalTime: wall-clock input a clock change blurs.
    """
    # The row lock makes concurrent ends queue here: the first invoices, the rest see it.
    # Only the rental's row (of=self): locking the joined zone would serialise the zone.
    rental = (
        Rental.objects.select_for_update(of=("self",))
        .filter(pk=rental_id, member=member)
        .select_related("vehicle__zone", "member", "tariff__zone")
        .prefetch_related("tariff__bands")
        .first()
    )
    if rental is None:
        raise RentalNotFound(f"No rental {rental_id} of yours.")
    end = _instant(ended_at, rental.tariff.zone.time_zone, now=now, field="ended_at")
    if rental.status == Rental.Status.ENDED:
        if rental.ended_at == end:
            return rental
        raise RentalAlreadyEnded(
            f"Rental {rental_id} already ended at {utc_iso(rental.ended_at)}.",
            ended_at=utc_iso(rental.ended_at),
        )
    # No length limit here: starts are bounded and ends cannot be in the future, so a long
    # rental is a car kept long, which is billed (the daily cap bounds it), never refused.
    charge = pricing.price(tariffs.to_pricing_tariff(rental.tariff), rental.started_at, end)
    # Every billing parameter from the zone whose tariff priced it, even if the car has
    # since been moved to another zone: one source for currency, VAT and series.
    zone = rental.tariff.zone

    # Webhooks after commit, deferred before the invoice's number so that the series counter
    # is not held for it; the invoice follows as invoice.issued (its "rental" names this one).
    events.publish(
        event_type="rental.ended",
        subject=rental.pk,
        occurred_at=end,
        data={
            "rental": rental.pk,
            "member": rental.member.user_id,
            "vehicle": rental.vehicle.plate,
            "zone": zone.code,
            "started_at": utc_iso(rental.started_at),
            "ended_at": utc_iso(end),
            "minutes": pricing.billable_minutes(charge),
            "total": money.format_amount(charge.total, charge.currency),
            "currency": charge.currency,
        },
    )

    invoice = invoicing.issue_invoice(
        member=members.billing_identity(rental.member),
        charge=charge,
        series=numbering.SeriesRule(prefix=zone.invoice_prefix, yearly=zone.yearly_series),
        subject_kind=SUBJECT_KIND,
        subject_id=rental.pk,
    )
    rental.status = Rental.Status.ENDED
    rental.ended_at = end
    rental.minutes = pricing.billable_minutes(charge)
    rental.invoice = invoice
    rental.save(update_fields=["status", "ended_at", "minutes", "invoice"])
    return rental


def quote_rental(
    *,
    member: Member,
    plate: str,
    started_at: datetime | None,
    ended_at: datetime | None,
    now: datetime,
) -> Quote:
    """Price a would-be rental without storing anything.

    Raises:
        UnknownVehicle, NoTariff, EndsBeforeStart, RentalTooLong, and the local-time errors.
    """
    vehicle = _vehicle(plate)
    time_zone = vehicle.zone.time_zone
    start = _instant(started_at, time_zone, now=now, field="started_at", future_ok=True)
    end = _instant(ended_at, time_zone, now=now, field="ended_at", future_ok=True)
    if end - start > _max_duration():
        raise RentalTooLong(
            f"A rental may last at most {_max_duration().days} days.", field="ended_at"
        )
    tariff = tariffs.tariff_in_force(zone=vehicle.zone, plan=member.plan, at=start)
    charge = pricing.price(tariffs.to_pricing_tariff(tariff), start, end)
    return Quote(charge=charge, vehicle=vehicle, minutes=pricing.billable_minutes(charge))


def _vehicle(plate: str) -> Vehicle:
    vehicle = Vehicle.objects.select_related("zone").filter(plate=plate).first()
    if vehicle is None:
        raise UnknownVehicle(f"No vehicle with plate {plate!r}.", field="vehicle")
    return vehicle


def _instant(
    value: datetime | None, time_zone: str, *, now: datetime, field: str, future_ok: bool = False
) -> datetime:
    """Resolve client input to an instant: omitted is now, wall-clock is read in the zone."""
    if value is None:
        return now
    instant = resolve_wall_time(value, time_zone)
    skew = timedelta(seconds=settings.BILLING["CLOCK_SKEW_SECONDS"])
    if not future_ok and instant > now + skew:
        raise InvalidPeriod(f"{field} is in the future.", field=field)
    return instant


def _max_duration() -> timedelta:
    return timedelta(days=settings.BILLING["MAX_RENTAL_DAYS"])
