"""List pagination: cursor based, newest first (docs/reference/api.md, "Lists")."""

from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Stable under concurrent inserts; ties broken by primary key."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500
