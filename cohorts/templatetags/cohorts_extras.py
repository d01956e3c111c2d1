"""Small filters for drawing disclosure-controlled bar charts as SVG."""

from django import template

register = template.Library()

ROW = 24
WIDTH = 170  # the label column is 190 wide, the value after the bar needs up to 50 ("100,000"): 420 in all


@register.filter
def max_value(rows):
    return max((count.value or 0 for _, count in rows), default=0)


@register.filter
def bar_height(n):
    return max(int(n), 1) * ROW


@register.filter
def bar_y(i):
    return int(i) * ROW


@register.filter
def bar_width(value, maximum):
    if not value or not maximum:
        return 0
    return max(1, round(WIDTH * value / maximum))
