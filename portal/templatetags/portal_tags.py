"""Display helpers for the portal's templates (formatting only)."""

from decimal import Decimal

from django import template

register = template.Library()

_SYMBOLS = {"USD": "$", "CAD": "$", "EUR": "€", "GBP": "£"}


@register.filter
def money(value, currency="USD"):
    """`$1,250.75` in every language: amounts are read against letters and statements
    printed the US way, so they look the same on each page and in each language."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    sign = "−" if value < 0 else ""
    symbol = _SYMBOLS.get(currency or "USD")
    text = f"{abs(value):,.2f}"
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"
