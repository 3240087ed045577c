"""Small display helpers for the compliance templates."""

from functools import cache

from django import template

register = template.Library()


@cache
def _titles():
    from compliance.selectors import rule_titles

    return rule_titles()


@register.filter
def rule_title(rule_id):
    """What a rule id stands for, e.g. F-7IN7 → "Seven calls in seven days"."""
    return _titles().get(rule_id, "")
