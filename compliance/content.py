"""Content checks for message templates and letters.

The renderer appends required disclosures (F-MIRANDA, F-OPTOUT) itself; template
authors never write them. What a template's own words may not do is checked here:
threaten suit (refused outright on time-barred or possibly time-barred debt, F-TIMEBAR),
overshadow the right to dispute during the validation period (F-OVERSHADOW), or, for a
limited-content voicemail, say anything beyond the allowed items (F-LCM).

`content_flags(text)` gives the flags the gate reads; `template_problems(text, kind)`
gives the sentences shown to the author.
"""

import re

_SUIT = re.compile(
    r"\b(sue|suing|lawsuit|legal action|take you to court|court action|judg(e)?ment|"
    r"garnish\w*|wage garnishment|refer(red)? to (an )?attorney|attorney will)\b",
    re.IGNORECASE,
)
_OVERSHADOW = re.compile(
    r"\b(pay (with)?in \d{1,2} days|must pay (now|immediately|today)|pay immediately|"
    r"final demand|immediate payment (is )?required|act now or|avoid further action)\b",
    re.IGNORECASE,
)
# A limited-content message (12 CFR 1006.2(j)) may not mention the debt at all.
_DEBT_WORDS = re.compile(
    r"\b(debt|collect\w*|balance|owe[sd]?|past due|overdue|account (number|ending)|payment)\b",
    re.IGNORECASE,
)


def content_flags(text):
    flags = set()
    if _SUIT.search(text or ""):
        flags.add("threatens_suit")
    if _OVERSHADOW.search(text or ""):
        flags.add("overshadows")
    return frozenset(flags)


def template_problems(text, *, kind="message"):
    """Sentences an author can act on; empty when the template may be used."""
    problems = []
    if match := _SUIT.search(text or ""):
        problems.append(
            f"“{match.group(0)}” threatens legal action. Such wording is refused on debts that "
            "are or may be time-barred (F-TIMEBAR), so the campaign cannot use this template "
            "for them; write it without the threat."
        )
    if match := _OVERSHADOW.search(text or ""):
        problems.append(
            f"“{match.group(0)}” pressures for payment in a way that can undercut the right to "
            "dispute during the validation period (F-OVERSHADOW); offer options instead."
        )
    if kind == "voicemail" and (match := _DEBT_WORDS.search(text or "")):
        problems.append(
            f"A voicemail must be a limited-content message: “{match.group(0)}” mentions the "
            "debt. Keep to the business name, a person's name, a callback number and a "
            "request to call back (F-LCM)."
        )
    return problems
