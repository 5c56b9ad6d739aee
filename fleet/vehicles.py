"""Vehicles: register one under a plate of a known shape, move it, take it out of service.

A plate is 1 to 20 characters: groups of ASCII letters and digits separated by one dash or
one space (``AB-123-CD``, ``B MW 1234``). Letters are stored in upper case; anything else
(punctuation, other scripts, control characters, leading or trailing blanks) is refused
with ``invalid_plate``: a plate is printed, searched and typed by people, and a guess at
what a strange one meant would be a second plate for the same car.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from django.db import IntegrityError, transaction

from core import transactions
from core.errors import ConflictError, DomainError
from fleet.models import Vehicle, Zone

PLATE_MAX_LENGTH: Final = 20  # the column's length
#: The shape of a plate as typed (either case); published in the API schema.
PLATE_PATTERN: Final = r"^[A-Za-z0-9]+(?:[ -][A-Za-z0-9]+)*$"
_PLATE: Final = re.compile(PLATE_PATTERN, re.ASCII)


class InvalidPlate(DomainError):
    """The plate is not groups of letters and digits split by single dashes or spaces."""

    code = "invalid_plate"


class InvalidVehicle(DomainError):
    """A vehicle's status is not one of ``Vehicle.Status``; ``details["field"]`` names it."""

    code = "invalid_vehicle"


class VehicleExists(ConflictError):
    """Another vehicle has that plate."""

    code = "vehicle_exists"


def normalise_plate(plate: object) -> str:
    """Return ``plate`` in upper case if it has the shape of a plate.

    Raises:
        InvalidPlate: not a string, empty, longer than 20 characters, or another shape.
    """
    if (
        not isinstance(plate, str)
        or len(plate) > PLATE_MAX_LENGTH
        or _PLATE.fullmatch(plate) is None
    ):
        raise InvalidPlate(
            f"A plate is 1 to {PLATE_MAX_LENGTH} letters and digits, in groups separated by"
            " one dash or one space (e.g. AB-123-CD).",
            field="plate",
        )
    return plate.upper()


@transactions.use_case
def register_vehicle(
    *, plate: str, zone: Zone, now: datetime, status: str = Vehicle.Status.AVAILABLE
) -> Vehicle:
    """Register a vehicle in a zone under its plate (stored in upper case).

    Raises:
        InvalidPlate: the plate has not the shape of a plate.
        InvalidVehicle: ``status`` is not a vehicle status.
        VehicleExists: another vehicle has that plate.
    """
    plate = normalise_plate(plate)
    _check_status(status)
    if Vehicle.objects.filter(plate=plate).exists():
        raise VehicleExists(f"A vehicle with plate {plate} exists.", field="plate")
    try:
        with transaction.atomic():  # a savepoint: the same plate registered concurrently
            return Vehicle.objects.create(plate=plate, zone=zone, status=status, created_at=now)
    except IntegrityError as exc:
        raise VehicleExists(f"A vehicle with plate {plate} exists.", field="plate") from exc


@transactions.use_case
def change_vehicle(*, vehicle_id: int, zone: Zone, status: str) -> Vehicle:
    """Move a vehicle to a zone and set its status; its plate never changes.

    An open rental keeps its tariff and zone (it is billed where it started) and can always
    be ended, whatever the car's status becomes.

    Raises:
        InvalidVehicle: ``status`` is not a vehicle status.
        Vehicle.DoesNotExist: no vehicle has that id.
    """
    _check_status(status)
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle_id)
    vehicle.zone = zone
    vehicle.status = status
    vehicle.save(update_fields=["zone", "status"])
    return vehicle


def _check_status(status: str) -> None:
    if status not in Vehicle.Status.values:
        raise InvalidVehicle(
            f"{status!r} is not a vehicle status ({', '.join(Vehicle.Status.values)}).",
            field="status",
        )
