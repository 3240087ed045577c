"""Safe message rendering: `{{ field }}` placeholders from a fixed list, nothing else.

Template authors get merge fields, never template tags, filters or attribute access, so
a template cannot reach data it should not or run code. Required disclosures are not
the author's business: the gate names them and `render` appends them.
"""

import re
from functools import lru_cache

from django.conf import settings

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
MERGE_FIELDS = {
    "first_name": "The debtor's first name",
    "last_name": "The debtor's last name",
    "full_name": "The debtor's full name",
    "balance": "The balance now, e.g. 1,234.50",
    "currency": "The account's currency code",
    "reference": "The office's reference for the account",
    "creditor_name": "The creditor's name",
    "office_name": "The office's name",
    "office_phone": "The office's public phone number",
    "portal_link": "A signed link to the debtor's self-service portal",
}


class TemplateError(ValueError):
    pass


@lru_cache(maxsize=512)  # a batch renders a handful of texts hundreds of times
def template_check(text):
    """Unknown placeholders, as a sentence an author can act on (or None)."""
    unknown = sorted({m for m in PLACEHOLDER.findall(text or "") if m not in MERGE_FIELDS})
    if unknown:
        return (
            f"Unknown merge field{'s' if len(unknown) > 1 else ''}: "
            + ", ".join("{{ " + u + " }}" for u in unknown)
            + ". Use one of: "
            + ", ".join(sorted(MERGE_FIELDS))
            + "."
        )
    # Anything that looks like Django template syntax is refused outright.
    if "{%" in (text or "") or re.search(r"\{\{[^}]*[.|]", text or ""):
        return "Templates take merge fields only ({{ first_name }}), no tags or filters."
    return None


def portal_link(*, office_id, debtor_id, account_id, message_id=None):
    """The signed, expiring portal link for one debtor and account (portal.tokens reads
    it back); with the message it goes out in, opening it counts as that message's click."""
    from portal.tokens import link_token

    token = link_token(
        office_id=office_id, debtor_id=debtor_id, account_id=account_id, message_id=message_id
    )
    return f"{settings.PUBLIC_BASE_URL}/p/{token}/"


def merge_values(*, account, debtor, office, creditor, message_id=None):
    return {
        "first_name": debtor.first_name or debtor.display_name,
        "last_name": debtor.last_name,
        "full_name": debtor.display_name,
        "balance": f"{account.balance:,.2f}",
        "currency": account.currency,
        "reference": account.office_reference,
        "creditor_name": creditor.name,
        "office_name": office.name,
        "office_phone": office.public_phone,
        "portal_link": portal_link(
            office_id=office.id, debtor_id=debtor.id, account_id=account.id, message_id=message_id
        ),
    }


def render(text, values, *, disclosures=()):
    problem = template_check(text)
    if problem:
        raise TemplateError(problem)
    body = PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text or "")
    lines = [body.rstrip()]
    lines.extend(d["text"] for d in disclosures)
    return "\n\n".join(line for line in lines if line)
