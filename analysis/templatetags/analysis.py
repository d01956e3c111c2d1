"""Template helpers for result tables: cells (a hidden count shows the policy's label), sort and page links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def get(mapping: Any, key: str) -> Any:
    if mapping is None:
        return ""
    return mapping.get(key, "")


@register.filter
def filter_value(query: Any, name: str) -> str:
    return query.get(f"f_{name}", "") if query is not None else ""


def _params(query: Any) -> dict[str, str]:
    if query is None:
        return {}
    return {k: v for k, v in query.items() if k.startswith("f_") or k in {"sort", "order"}}


@register.simple_tag
def sort_query(query: Any, column: str, asked: Any) -> str:
    params = _params(query)
    descending = bool(asked and asked.get("sort") == column and not asked.get("descending"))
    params.update({"sort": column, "order": "desc" if descending else "asc"})
    return urlencode(params)


@register.simple_tag
def page_query(query: Any, page: int) -> str:
    return urlencode({**_params(query), "page": page})


@register.simple_tag(takes_context=True)
def cell(context: dict[str, Any], row: dict[str, Any], column: dict[str, Any]) -> str:
    value = row.get(column["name"])
    artifact = context.get("artifact")
    threshold = (artifact.disclosure or {}).get("threshold", 5) if artifact is not None else 5
    if value is None:
        text = f"<{threshold}" if column.get("count") else "—"
        title = "Hidden: below the disclosure threshold, or hidden so that another hidden count cannot be worked out"
        return format_html('<td class="num" title="{}">{}</td>', title if column.get("count") else "", text)
    if column["type"] == "float":
        return format_html('<td class="num">{}</td>', f"{value:.4g}")
    if column["type"] in ("count", "integer"):
        return format_html('<td class="num">{}</td>', f"{value:,}" if column["type"] == "count" else str(value))
    return format_html("<td>{}</td>", value)
