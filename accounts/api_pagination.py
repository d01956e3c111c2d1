"""Pages of API lists. ``page`` is a whole number from 1, as the schema says:
anything else (an empty value included) is refused with 404 "Invalid page.",
as a page past the end is."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not raw.isdigit() or int(raw) < 1:
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="Not a whole number from 1."))
        return raw
