"""Live progress of a running import, kept in the cache (Redis in production).

An import writes inside one transaction that no other connection sees until it commits,
so how far it got is reported out of band, keyed by office and import: rows read,
imported and rejected so far, and the phase. Counts only, never a row's contents.
"""

from django.core.cache import cache

TIMEOUT = 24 * 3600


def progress_key(office_id, import_id):
    return f"placement-import:{office_id}:{import_id}:progress"


def progress_set(placement_import, *, phase, read=0, imported=0, rejected=0):
    cache.set(
        progress_key(placement_import.office_id, placement_import.pk),
        {
            "phase": phase,
            "read": read,
            "imported": imported,
            "rejected": rejected,
            "total": placement_import.row_estimate,
        },
        TIMEOUT,
    )


def progress_get(placement_import):
    """The last progress reported, or None before the run has started."""
    return cache.get(progress_key(placement_import.office_id, placement_import.pk))


def progress_percent(progress):
    if not progress or not progress.get("total"):
        return 0
    return min(100, round(100 * progress["read"] / progress["total"]))
