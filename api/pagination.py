"""List pagination: cursor based, newest first (docs/reference/api.md, "Lists").

A malformed page size is refused, never replaced by the default: a client asking for
``page_size=0`` or ``abc`` has a bug it must hear about. A cursor is opaque: one that was not
produced here is a 404, as DRF answers, including one whose position is not an instant.
"""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

PAGE_SIZE_PARAMETER = "page_size"
MAX_PAGE_SIZE = 500


class StrictCursorPagination(CursorPagination):
    """Cursor pagination on an instant, refusing page sizes outside ``[1, MAX_PAGE_SIZE]``."""

    page_size_query_param = PAGE_SIZE_PARAMETER
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        """Return the requested page size, or the default when none is asked.

        Raises:
            ValidationError: ``page_size`` is not a whole number from 1 to ``MAX_PAGE_SIZE``.
        """
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return int(self.page_size)
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Must be a whole number from 1 to {self.max_page_size}."
                    ]
                },
                code="invalid_page_size",
            )
        return int(raw)

    def decode_cursor(self, request: Request) -> Cursor | None:
        """Return the cursor of the request, if any.

        Raises:
            NotFound: the cursor was not made here (DRF's answer to an invalid cursor).
        """
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            # The position is compared with an instant column: garbage there would be a 500.
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:
                valid = False
            if not valid:
                raise NotFound(self.invalid_cursor_message)
        return cursor

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters

    def query_parameters(self) -> set[str]:
        """Return the query parameters this pagination reads."""
        return {self.cursor_query_param, self.page_size_query_param}


class NewestFirstCursorPagination(StrictCursorPagination):
    """Stable under concurrent inserts; ties broken by primary key."""

    ordering = ("-created_at", "-id")
