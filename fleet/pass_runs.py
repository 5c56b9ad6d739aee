"""The monthly invoice run of passes: every period due, invoiced once, numbered in batches.

``bill_due_subscriptions`` is what ``manage.py bill_subscriptions`` and the scheduled job
call. A period is due once it has started (billed in advance, at its start) and before the
subscription's end; periods of one zone go into that zone's series in batches
(``billing.runs``): each batch locks its subscriptions with ``SKIP LOCKED``, inserts their
period rows (unique per subscription and period: the database refuses a second one),
issues their invoices with one counter lock, and moves each subscription on to its next
period, in one short transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from billing import charges, invoicing, numbering, runs
from core import bulk
from core.errors import DomainError
from core.localtime import utc_iso
from fleet import periods
from fleet.models import Subscription, SubscriptionPeriod, Zone

SUBJECT_KIND = "subscription_period"
MONTHLY_PASS = "MONTHLY_PASS"  # noqa: S105 - a line kind, not a secret


class InvalidRun(DomainError):
    """A run cannot bill periods that have not started: ``until`` is after now."""

    code = "invalid_run"


@dataclass(frozen=True, slots=True)
class DueSubscription:
    """A subscription whose next period is due, with what its invoice needs."""

    id: int
    start_date: date
    next_index: int
    next_starts_at: datetime
    product_code: str
    label: str
    monthly_price: Decimal
    member_id: int
    billing_name: str
    billing_address: str


_DUE_FIELDS = (
    "pk", "start_date", "next_period_index", "next_period_starts_at", "product__code",
    "product__label", "product__monthly_price", "member__user_id", "member__billing_name",
    "member__billing_address",
)  # fmt: skip


def bill_due_subscriptions(
    *,
    until: datetime,
    now: datetime,
    batch_size: int = runs.BATCH_SIZE,
    max_failures: int = runs.MAX_FAILURES,
    on_progress: runs.Progress | None = None,
) -> runs.RunSummary:
    """Invoice every subscription period that starts before ``until``, each exactly once.

    Safe to run again, to kill at any point, and to run on several hosts at once: what was
    billed is skipped, what is due is billed once.

    Raises:
        InvalidRun: ``until`` is after ``now`` (a period is billed once it has started).
        OperationalError, InterfaceError: the database was lost mid-run.
    """
    if until > now:
        raise InvalidRun(
            f"until ({utc_iso(until)}) is after now ({utc_iso(now)}): a period is billed once"
            " it has started.",
            field="until",
        )
    zones = Zone.objects.filter(
        pk__in=Subscription.objects.filter(started_at__lt=until).values("product__zone_id")
    ).order_by("code")
    return runs.run(
        [ZonePasses(zone=zone, until=until) for zone in zones],
        batch_size=batch_size,
        max_failures=max_failures,
        on_progress=on_progress,
    )


class ZonePasses:
    """The subscription periods of one zone due before ``until``: one series, one producer."""

    def __init__(self, *, zone: Zone, until: datetime) -> None:
        self.zone = zone
        self.until = until
        self.series = numbering.SeriesRule(prefix=zone.invoice_prefix, yearly=zone.yearly_series)

    def _of_zone(self) -> QuerySet[Subscription]:
        return Subscription.objects.filter(product__zone=self.zone, started_at__lt=self.until)

    def _due(self) -> QuerySet[Subscription]:
        return (
            self._of_zone()
            .filter(next_period_starts_at__lt=self.until)
            .filter(Q(ends_at__isnull=True) | Q(next_period_starts_at__lt=F("ends_at")))
        )

    def due_count(self) -> int:
        """Return how many subscriptions of the zone have a period due."""
        return self._due().count()

    def already_billed_count(self) -> int:
        """Return how many running subscriptions of the zone are billed past ``until``."""
        return (
            self._of_zone()
            .filter(next_period_starts_at__gte=self.until)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=self.until))
            .count()
        )

    def claim(
        self, *, limit: int, only: Sequence[int] | None, exclude: Collection[int], wait: bool
    ) -> list[DueSubscription]:
        """Lock up to ``limit`` subscriptions with a period due, oldest period first."""
        due = self._due()
        if only is not None:
            due = due.filter(pk__in=only)
        if exclude:
            due = due.exclude(pk__in=exclude)
        # Only the subscription rows (of=self): locking the joined member or pass would
        # make every batch of the zone queue on one product row.
        rows = (
            due.order_by("next_period_starts_at", "pk")
            .select_for_update(skip_locked=not wait, of=("self",))
            .values_list(*_DUE_FIELDS)[:limit]
        )
        return [DueSubscription(*row) for row in rows]

    def bill(self, items: Sequence[runs.Item]) -> tuple[int, tuple[runs.Failure, ...]]:
        """Insert the next period of each subscription and issue its invoice, as one batch."""
        ready: list[tuple[DueSubscription, periods.Period, charges.Charge]] = []
        failures = []
        # Members of one pass and anniversary share one charge (immutable, built once).
        built: dict[tuple[object, ...], charges.Charge] = {}
        for item in cast(Sequence[DueSubscription], items):
            try:
                period = self._period(item)
                key = (item.product_code, item.label, item.monthly_price, period)
                if key not in built:
                    built[key] = self._charge(item, period)
                ready.append((item, period, built[key]))
            except (DomainError, ValueError) as exc:
                failures.append(runs.Failure(item=item.id, reason=_reason(exc)))
        if not ready:
            return 0, tuple(failures)
        rows = [
            bulk.new(
                SubscriptionPeriod,
                subscription_id=item.id,
                index=period.index,
                starts_at=period.starts_at,
                ends_at=period.ends_at,
            )
            for item, period, _ in ready
        ]
        bulk.insert(rows)
        invoicing.issue_invoices(
            requests=[
                invoicing.InvoiceRequest(
                    member=invoicing.BillingIdentity(
                        member_id=item.member_id,
                        billing_name=item.billing_name,
                        billing_address=item.billing_address,
                    ),
                    charge=charge,
                    subject_kind=SUBJECT_KIND,
                    subject_id=row.pk,
                )
                for (item, _, charge), row in zip(ready, rows, strict=True)
            ],
            series=self.series,
        )
        # Each subscription moves on to the period after the one just inserted.
        Subscription.objects.filter(pk__in=[item.id for item, _, _ in ready]).update(
            next_period_index=F("next_period_index") + 1,
            next_period_starts_at=Subquery(
                SubscriptionPeriod.objects.filter(
                    subscription_id=OuterRef("pk"), index=OuterRef("next_period_index")
                ).values("ends_at")[:1]
            ),
        )
        return len(ready), tuple(failures)

    def _period(self, item: DueSubscription) -> periods.Period:
        period = periods.period(
            anchor=item.start_date, index=item.next_index, time_zone=self.zone.time_zone
        )
        if period.starts_at != item.next_starts_at:
            raise ValueError(
                f"period {item.next_index} starts at {utc_iso(period.starts_at)}, not at the"
                f" recorded {utc_iso(item.next_starts_at)}"
            )
        return period

    def _charge(self, item: DueSubscription, period: periods.Period) -> charges.Charge:
        zone = self.zone
        line = charges.ChargeLine(
            kind=MONTHLY_PASS,
            description=(
                f"{item.label}, {period.first_date.isoformat()} to {period.last_date.isoformat()}"
            ),
            quantity=Decimal(1),
            unit="month",
            unit_price=item.monthly_price,
            amount=item.monthly_price,
            vat_rate=zone.vat_rate,
            local_date=period.first_date,
            details={"pass": item.product_code, "period": period.index + 1},
        )
        return charges.Charge(
            currency=zone.currency,
            time_zone=zone.time_zone,
            started_at=period.starts_at,
            ended_at=period.ends_at,
            lines=(line,),
        )


def _reason(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return f"{exc.code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"
