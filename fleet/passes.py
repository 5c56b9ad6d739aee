"""Monthly passes: publish one, subscribe a member, cancel at a period's end, the plan they give.

A pass is sold per zone at a price a month and gives a tariff plan: a rental whose start a
subscription covers is priced under the pass's plan (``plan_at``). Periods are the local
calendar anniversaries of the first day (``fleet.periods``), billed in advance by the
invoice runs (``fleet.pass_runs``), each once. No proration: every period is a whole
anniversary month from the member's own first day, so no period is ever partial, and a
cancellation takes effect at the end of the period already billed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q

from billing import money
from core import transactions
from core.errors import ConflictError, DomainError, NotFoundError
from core.localtime import start_of_local_day
from fleet import periods
from fleet.models import Member, PassProduct, Subscription, Tariff, Zone

#: How far ahead a subscription may start: a year of the zone's calendar.
MONTHS_AHEAD = 12


class InvalidPass(DomainError):
    """A pass's price or plan is not usable; ``details["field"]`` names it."""

    code = "invalid_pass"


class UnknownMember(DomainError):
    """No member has that id."""

    code = "unknown_member"


class PassExists(ConflictError):
    """The zone already sells a pass with that code."""

    code = "pass_exists"


class UnknownPass(DomainError):
    """No pass of the zone has that code."""

    code = "unknown_pass"


class PassNotOnSale(ConflictError):
    """The pass is no longer sold: it takes no new subscriptions."""

    code = "pass_not_on_sale"


class InvalidStartDate(DomainError):
    """A subscription starts today or within a year, in the zone's calendar."""

    code = "invalid_start_date"


class SubscriptionOverlaps(ConflictError):
    """The member already has a subscription in the zone running at (or after) that start."""

    code = "subscription_overlaps"


class SubscriptionRequestReused(ConflictError):
    """The request key already subscribed someone to something else."""

    code = "subscription_request_reused"


class SubscriptionNotFound(NotFoundError):
    """No such subscription (among the member's own, for a member)."""

    code = "subscription_not_found"


@transactions.use_case
def publish_pass(
    *, zone: Zone, code: str, label: str, monthly_price: Decimal, plan: str, now: datetime
) -> PassProduct:
    """Put a monthly pass on sale in ``zone``.

    Raises:
        InvalidPass: a price with more decimals than the currency, or a plan the zone has
            no tariff for.
        PassExists: the zone already has a pass with that code.
    """
    if monthly_price < 0 or money.round_money(monthly_price, zone.currency) != monthly_price:
        raise InvalidPass(
            f"monthly_price must be at least 0 with at most {money.minor_unit(zone.currency)} "
            f"decimals for {zone.currency}.",
            field="monthly_price",
        )
    if not Tariff.objects.filter(zone=zone, plan=plan).exists():
        raise InvalidPass(
            f"{zone.code} has no {plan!r} tariff: publish one before a pass that gives it.",
            field="plan",
        )
    exists = PassExists(f"{zone.code} already has a pass {code!r}.", field="code")
    if PassProduct.objects.filter(zone=zone, code=code).exists():
        raise exists
    try:
        with transaction.atomic():  # a savepoint: the same pass published concurrently
            return PassProduct.objects.create(
                zone=zone,
                code=code,
                label=label,
                monthly_price=monthly_price,
                plan=plan,
                created_at=now,
            )
    except IntegrityError as exc:
        raise exists from exc


def pass_of(*, zone: Zone, code: str) -> PassProduct:
    """Return the pass ``code`` of ``zone``.

    Raises:
        UnknownPass: the zone sells no such pass.
    """
    product = PassProduct.objects.select_related("zone").filter(zone=zone, code=code).first()
    if product is None:
        raise UnknownPass(f"{zone.code} has no pass {code!r}.", field="product")
    return product


@transactions.use_case
def subscribe(
    *,
    member: Member,
    product: PassProduct,
    start_date: date,
    subscribed_by_id: int,
    now: datetime,
    request_key: str = "",
) -> Subscription:
    """Subscribe ``member`` to ``product`` from the first instant of ``start_date`` (local).

    A ``request_key`` already used by the same person returns that subscription instead of
    subscribing again. The member's row is locked first, so that two subscriptions of one
    member are checked one after the other.

    Raises:
        SubscriptionRequestReused: the request key subscribed to something else.
        PassNotOnSale: the pass takes no new subscriptions.
        InvalidStartDate: ``start_date`` is before today, or more than a year ahead, in the
            zone's calendar.
        SubscriptionOverlaps: the member has a subscription in the zone running then.
    """
    Member.objects.select_for_update().filter(pk=member.pk).first()
    if request_key:
        earlier = Subscription.objects.filter(
            subscribed_by_id=subscribed_by_id, request_key=request_key
        ).first()
        if earlier is not None:
            if (earlier.member_id, earlier.product_id, earlier.start_date) != (
                member.pk,
                product.pk,
                start_date,
            ):
                raise SubscriptionRequestReused(
                    "This request key already subscribed to something else.",
                    subscription=earlier.pk,
                )
            return earlier
    if not product.on_sale:
        raise PassNotOnSale(f"The pass {product.code!r} is no longer sold.")
    zone = product.zone
    today = now.astimezone(ZoneInfo(zone.time_zone)).date()
    latest = periods.anniversary(today, MONTHS_AHEAD)
    if not today <= start_date <= latest:
        raise InvalidStartDate(
            f"A subscription starts between today ({today.isoformat()} in {zone.time_zone})"
            f" and {latest.isoformat()}.",
            field="start_date",
            today=today.isoformat(),
        )
    started_at = start_of_local_day(start_date, zone.time_zone)
    running = Subscription.objects.filter(member=member, product__zone=zone).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=started_at)
    )
    clash = running.order_by("started_at").first()
    if clash is not None:
        raise SubscriptionOverlaps(
            f"The member's subscription {clash.pk} in {zone.code} runs then: cancel it first.",
            subscription=clash.pk,
        )
    return Subscription.objects.create(
        member=member,
        product=product,
        start_date=start_date,
        started_at=started_at,
        next_period_starts_at=started_at,
        subscribed_by_id=subscribed_by_id,
        request_key=request_key,
        created_at=now,
    )


@transactions.use_case
def cancel_subscription(
    *, subscription_id: int, now: datetime, member: Member | None = None
) -> Subscription:
    """End a subscription at the end of its current period; a repeat changes nothing.

    The period running at ``now`` (billed in advance) is the last; a subscription that has
    not started yet ends before its first period. ``member`` limits it to their own.

    Raises:
        SubscriptionNotFound: no such subscription (of that member).
    """
    found = Subscription.objects.select_for_update(of=("self",)).select_related("product__zone")
    if member is not None:
        found = found.filter(member=member)
    subscription = found.filter(pk=subscription_id).first()
    if subscription is None:
        raise SubscriptionNotFound(f"No subscription {subscription_id}.")
    if subscription.cancelled_at is not None:
        return subscription
    time_zone = subscription.product.zone.time_zone
    index = periods.index_at(anchor=subscription.start_date, at=now, time_zone=time_zone)
    if index is None:
        subscription.ends_at = subscription.started_at
    else:
        current = periods.period(anchor=subscription.start_date, index=index, time_zone=time_zone)
        subscription.ends_at = current.ends_at
    subscription.cancelled_at = now
    subscription.save(update_fields=["ends_at", "cancelled_at"])
    return subscription


def plan_at(*, member: Member, zone: Zone, at: datetime) -> str:
    """Return the tariff plan ``member``'s rentals in ``zone`` starting at ``at`` use.

    The plan of the pass whose subscription covers ``at`` (``[started_at, ends_at)``), else
    the member's own plan.
    """
    covering = (
        Subscription.objects.filter(member=member, product__zone=zone, started_at__lte=at)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .order_by("-started_at")
        .values_list("product__plan", flat=True)
        .first()
    )
    return covering if covering is not None else member.plan
