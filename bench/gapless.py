"""The HTTP ceiling for a gapless write: one numbered invoice row behind the real API's door.

``POST /bench/gapless-write/`` (served only by ``bench.settings``) goes through what every
write of the API goes through (the middleware, the default authentication classes, the
member permission, the strict JSON parser) and then does, in one transaction, only what
bounds every invoice of a series: take the next number with django-sequences, whose counter
row stays locked until commit, and insert one invoice row. No rental, no pricing, no lines,
no hash chain, no journal entry, no jobs, no idempotency key: what ``POST
/api/rentals/{id}/end/`` does beyond this is the gap between it and this ceiling.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from sequences import get_next_value

from api.permissions import IsMember
from billing import numbering
from billing.models import Invoice

SERIES = "HTTP-CEILING"
SUBJECT_KIND = "http-ceiling"


class GaplessWrite(APIView):
    # The API's default authentication classes, as the rentals views use them.
    permission_classes = [IsMember]

    def post(self, request: Request) -> Response:
        member = request.user.member  # loaded by the permission's role check
        seller = settings.BILLING
        with transaction.atomic(durable=True):
            sequence = get_next_value(SERIES)
            number = numbering.document_number(SERIES, sequence)
            Invoice.objects.create(
                number=number,
                series=SERIES,
                sequence=sequence,
                # The database clock inside the insert, after the number, as pgbench's row:
                # no extra round trip under the counter lock.
                issued_at=Now(),
                time_zone="Europe/Paris",
                member_id=member.user_id,
                billing_name=member.billing_name,
                billing_address=member.billing_address,
                seller_name=seller["SELLER_NAME"],
                seller_address=seller["SELLER_ADDRESS"],
                seller_vat_id=seller["SELLER_VAT_ID"],
                subject_kind=SUBJECT_KIND,
                subject_id=sequence,
                period_started_at=Now(),
                period_ended_at=Now(),
                currency="EUR",
                net=Decimal("17.50"),
                vat_rate=Decimal("0.2000"),
                vat=Decimal("3.50"),
                total=Decimal("21.00"),
                canonical_version=2,
                previous_hash="0" * 64,
                # Unique, not a chain: the audit leaves this series out.
                hash=hashlib.sha256(number.encode()).hexdigest(),
            )
        return Response({"number": number}, status=status.HTTP_201_CREATED)
