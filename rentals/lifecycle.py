"""Rental use cases: start, pause, resume, end (close, price, invoice in one transaction), quote.

Each public function is one use case: the views call exactly one of them, passing the
clock reading ``now`` they took once. Transactions begin here and nowhere below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from billing import charges, invoicing, money, numbering, pricing
from core import events, prefetch, transactions
from core.errors import ConflictError, DomainError, NotFoundError
from core.localtime import resolve_wall_time, utc_iso
from fleet import members, passes, tariffs
from fleet.models import Member, Vehicle
from rentals.models import ParkedInterval, Rental

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


class RentalParked(ConflictError):
    """The rental is parked already: resume it before pausing again."""

    code = "rental_parked"


class RentalNotParked(ConflictError):
    """The rental is being driven: there is no pause to resume."""

    code = "rental_not_parked"


class BeforePreviousEvent(ConflictError):
    """The instant is before the rental's start or its last pause or resume."""

    code = "before_previous_event"


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


@dataclass(frozen=True, slots=True)
class QuotedPause:
    """A parked interval of a quote, as the client sent it (wall-clock input allowed)."""

    paused_at: datetime
    resumed_at: datetime


@transactions.use_case
def start_rental(
    *, member: Member, plate: str, started_at: datetime | None, now: datetime
) -> Rental:
    """Open a rental of a vehicle for a member, under the tariff in force at its start.

    The tariff is that of the plan of the pass whose subscription covers the start, if any,
    else of the member's own plan.

    Raises:
        UnknownVehicle, VehicleUnavailable: no such plate, or the car is not in service.
        VehicleBusy, MemberHasOpenRental: an open rental exists (checked by the database).
        NonexistentLocalTime, AmbiguousLocalTime: wall-clock input a clock change blurs.
        InvalidPeriod: a start in the future or more than MAX_RENTAL_DAYS in the past.
        NoTariff: no tariff for the plan in the vehicle's zone at the start.
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
    # A pass whose subscription covers the start gives its plan; the member's own otherwise.
    plan = passes.plan_at(member=member, zone=vehicle.zone, at=start)
    tariff = tariffs.tariff_in_force(zone=vehicle.zone, plan=plan, at=start)
    # One read for the three questions: at most two rows, as the database allows one open
    # rental per vehicle and one per member.
    open_rentals = list(
        Rental.objects.filter(Q(vehicle=vehicle) | Q(member=member), status=Rental.Status.OPEN)
    )
    # The same start sent again (a retry whose first answer was lost) is that rental.
    same = next(
        (
            rental
            for rental in open_rentals
            if (rental.member_id, rental.vehicle_id, rental.started_at)
            == (member.pk, vehicle.pk, start)
        ),
        None,
    )
    if started_at is not None and same is not None:
        return same
    if any(rental.vehicle_id == vehicle.pk for rental in open_rentals):
        raise VehicleBusy(f"Vehicle {plate} is in an open rental.")
    if any(rental.member_id == member.pk for rental in open_rentals):
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

    prefetch.prime(rental, "parked_intervals", ())  # a new rental has not parked yet

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
def pause_rental(*, member: Member, rental_id: int, at: datetime | None, now: datetime) -> Rental:
    """Park a rental from ``at`` (omitted: now); a repeat at the same instant is a no-op.

    Raises:
        RentalNotFound: no such rental among the member's.
        RentalAlreadyEnded: the rental has ended.
        RentalParked: it is parked already, since another instant.
        BeforePreviousEvent: ``at`` is before the start or the last pause or resume.
        InvalidPeriod, NonexistentLocalTime, AmbiguousLocalTime: as for an end.
    """
    rental = _locked(member=member, rental_id=rental_id)
    paused_at = _instant(at, rental.tariff.zone.time_zone, now=now, field="at")
    _still_open(rental)
    current = _open_interval(rental)
    if current is not None:
        if current.paused_at == paused_at:
            return rental
        raise RentalParked(
            f"Rental {rental_id} is parked since {utc_iso(current.paused_at)}.",
            paused_at=utc_iso(current.paused_at),
        )
    _not_before_previous_event(rental, paused_at, field="at")
    interval = ParkedInterval.objects.create(rental=rental, paused_at=paused_at)
    prefetch.prime(rental, "parked_intervals", [*_intervals(rental), interval])
    return rental


@transactions.use_case
def resume_rental(*, member: Member, rental_id: int, at: datetime | None, now: datetime) -> Rental:
    """Drive on from ``at`` (omitted: now); a repeat at the same instant is a no-op.

    Raises:
        RentalNotFound: no such rental among the member's.
        RentalAlreadyEnded: the rental has ended.
        RentalNotParked: it is being driven, and was not resumed at that instant.
        BeforePreviousEvent: ``at`` is before the pause.
        InvalidPeriod, NonexistentLocalTime, AmbiguousLocalTime: as for an end.
    """
    rental = _locked(member=member, rental_id=rental_id)
    resumed_at = _instant(at, rental.tariff.zone.time_zone, now=now, field="at")
    _still_open(rental)
    current = _open_interval(rental)
    if current is None:
        intervals = _intervals(rental)
        if intervals and intervals[-1].resumed_at == resumed_at:
            return rental
        raise RentalNotParked(f"Rental {rental_id} is not parked.")
    _not_before_previous_event(rental, resumed_at, field="at")
    current.resumed_at = resumed_at
    current.save(update_fields=["resumed_at"])
    return rental


@transactions.use_case
def end_rental(
    *,
    member: Member,
    rental_id: int,
    ended_at: datetime | None,
    now: datetime,
    distance_km: Decimal | None = None,
) -> Rental:
    """Close, price and invoice a rental in one transaction; a same-instant repeat is a no-op.

    A rental ended while parked closes its pause at ``ended_at``. ``distance_km`` (km with
    one decimal; omitted: 0) is billed beyond the tariff's included km.

    Raises:
        RentalNotFound: no such rental among the member's.
        RentalAlreadyEnded: it ended at another instant, or with another distance.
        EndsBeforeStart, InvalidPeriod: the end is before the start, or in the future.
        BeforePreviousEvent: the end is before the last pause or resume.
        InvalidDistance: the distance is negative or has more than one decimal.
        NonexistentLocalTime, AmbiguousLocalTime: wall-clock input a clock change blurs.
    """
    rental = _locked(member=member, rental_id=rental_id)
    end = _instant(ended_at, rental.tariff.zone.time_zone, now=now, field="ended_at")
    if rental.status == Rental.Status.ENDED:
        if rental.ended_at == end and distance_km in (None, rental.distance_km):
            return rental
        raise RentalAlreadyEnded(
            f"Rental {rental_id} already ended at {utc_iso(rental.ended_at)}.",
            ended_at=utc_iso(rental.ended_at),
        )
    if end >= rental.started_at:
        _not_before_previous_event(rental, end, field="ended_at")
    # An end while parked closes the pause: the parked minutes run until the end.
    current = _open_interval(rental)
    if current is not None:
        current.resumed_at = end
        current.save(update_fields=["resumed_at"])
    # No length limit here: starts are bounded and ends cannot be in the future, so a long
    # rental is a car kept long, which is billed (the daily cap bounds it), never refused.
    distance = Decimal(0) if distance_km is None else distance_km
    charge = pricing.price(
        tariffs.to_pricing_tariff(rental.tariff),
        rental.started_at,
        end,
        parked=[
            pricing.Parked(paused_at=interval.paused_at, resumed_at=interval.resumed_at)
            for interval in _intervals(rental)
        ],
        distance_km=distance,
    )
    # Every billing parameter from the zone whose tariff priced it, even if the car has
    # since been moved to another zone: one source for currency, VAT and series.
    zone = rental.tariff.zone
    minutes = pricing.billable_minutes(charge)

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
            "minutes": minutes,
            "total": money.format_amount(charge.total, charge.currency),
            "currency": charge.currency,
        },
    )

    def close(invoice_ids: Sequence[int]) -> None:
        # Closed before the invoice's number, naming the invoice's reserved id (the foreign
        # key is checked at commit): one statement fewer under the series' lock.
        (rental.invoice_id,) = invoice_ids
        rental.status = Rental.Status.ENDED
        rental.ended_at = end
        rental.minutes = minutes
        # As the column keeps it (one decimal), for the answer built from this object.
        rental.distance_km = distance.quantize(Decimal("0.1"))
        rental.save(update_fields=["status", "ended_at", "minutes", "distance_km", "invoice"])

    rental.invoice = invoicing.issue_invoice(
        member=members.billing_identity(rental.member),
        charge=charge,
        series=numbering.SeriesRule(prefix=zone.invoice_prefix, yearly=zone.yearly_series),
        subject_kind=SUBJECT_KIND,
        subject_id=rental.pk,
        before_number=close,
    )
    return rental


def quote_rental(
    *,
    member: Member,
    plate: str,
    started_at: datetime | None,
    ended_at: datetime | None,
    now: datetime,
    parked: Sequence[QuotedPause] = (),
    distance_km: Decimal | None = None,
) -> Quote:
    """Price a would-be rental, with its pauses and distance, without storing anything.

    Raises:
        UnknownVehicle, NoTariff, EndsBeforeStart, RentalTooLong, the local-time errors,
        InvalidParkedInterval and InvalidDistance.
    """
    vehicle = _vehicle(plate)
    time_zone = vehicle.zone.time_zone
    start = _instant(started_at, time_zone, now=now, field="started_at", future_ok=True)
    end = _instant(ended_at, time_zone, now=now, field="ended_at", future_ok=True)
    if end - start > _max_duration():
        raise RentalTooLong(
            f"A rental may last at most {_max_duration().days} days.", field="ended_at"
        )
    pauses = [
        pricing.Parked(
            paused_at=_instant(pause.paused_at, time_zone, now=now, field="parked", future_ok=True),
            resumed_at=_instant(
                pause.resumed_at, time_zone, now=now, field="parked", future_ok=True
            ),
        )
        for pause in parked
    ]
    plan = passes.plan_at(member=member, zone=vehicle.zone, at=start)
    tariff = tariffs.tariff_in_force(zone=vehicle.zone, plan=plan, at=start)
    charge = pricing.price(
        tariffs.to_pricing_tariff(tariff),
        start,
        end,
        parked=pauses,
        distance_km=Decimal(0) if distance_km is None else distance_km,
    )
    return Quote(charge=charge, vehicle=vehicle, minutes=pricing.billable_minutes(charge))


def _locked(*, member: Member, rental_id: int) -> Rental:
    """Return the member's rental, its row locked until the use case's transaction ends.

    Pauses, resumes and ends of one rental queue on this lock, so they are recorded one at a
    time: a pause racing an end either lands first and is billed, or finds the rental ended.
    Only the rental's row (of=self): locking the joined zone would serialise the zone.

    Raises:
        RentalNotFound: no such rental among the member's.
    """
    rental = (
        Rental.objects.select_for_update(of=("self",))
        .filter(pk=rental_id, member=member)
        .select_related("vehicle__zone", "member", "tariff__zone")
        .prefetch_related("tariff__bands", "parked_intervals")
        .first()
    )
    if rental is None:
        raise RentalNotFound(f"No rental {rental_id} of yours.")
    return rental


def _intervals(rental: Rental) -> list[ParkedInterval]:
    return sorted(rental.parked_intervals.all(), key=lambda interval: interval.paused_at)


def _open_interval(rental: Rental) -> ParkedInterval | None:
    return next((i for i in _intervals(rental) if i.resumed_at is None), None)


def _still_open(rental: Rental) -> None:
    if rental.status == Rental.Status.ENDED:
        raise RentalAlreadyEnded(
            f"Rental {rental.pk} ended at {utc_iso(rental.ended_at)}.",
            ended_at=utc_iso(rental.ended_at),
        )


def _not_before_previous_event(rental: Rental, instant: datetime, *, field: str) -> None:
    """Refuse an event earlier than the rental's start or its last pause or resume."""
    previous = rental.started_at
    for interval in _intervals(rental):
        previous = max(previous, interval.paused_at, interval.resumed_at or interval.paused_at)
    if instant < previous:
        raise BeforePreviousEvent(
            f"{field} ({utc_iso(instant)}) is before the rental's previous event "
            f"({utc_iso(previous)}).",
            field=field,
            previous_event_at=utc_iso(previous),
        )


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
