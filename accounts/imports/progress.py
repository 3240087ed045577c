"""Live progress of a running import (a placement file or a creditor/vendor file), kept
in the cache (Redis in production).

An import writes inside one transaction that no other connection sees until it commits,
so how far it got is reported out of band, keyed by the record (its model, office and
id): rows read, imported (applied) and rejected so far, and the phase. Counts only,
never a row's contents.
"""

from django.core.cache import cache

TIMEOUT = 24 * 3600


def progress_key(office_id, record_id, kind):
    """`kind`: the record's model name (placementimport, creditorfile)."""
    return f"{kind}:{office_id}:{record_id}:progress"


def _key(record):
    return progress_key(record.office_id, record.pk, record._meta.model_name)


def progress_set(record, *, phase, read=0, imported=0, rejected=0):
    cache.set(
        _key(record),
        {
            "phase": phase,
            "read": read,
            "imported": imported,
            "rejected": rejected,
            "total": record.row_estimate,
        },
        TIMEOUT,
    )


def progress_get(record):
    """The last progress reported, or None before the run has started."""
    return cache.get(_key(record))


def progress_percent(progress):
    if not progress or not progress.get("total"):
        return 0
    return min(100, round(100 * progress["read"] / progress["total"]))
