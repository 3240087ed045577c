"""Champion/challenger: a step's variants, split by percentages, assigned by a hash of
the enrollment id so the same enrollment always gets the same variant (on every tick,
in every process) and the planner can assign it in SQL.

A step's `variants` is ``[{"key": "A", "percent": 50, "templates": {...}}, ...]`` with
percentages summing to 100; an empty list means one version, no experiment.
"""

import hashlib

# The same bucket in SQL (the planner) and Python (tests, previews): the first 32 bits
# of md5(enrollment id as text), modulo 100. ("%%": the SQL is run with parameters.)
BUCKET_SQL = "(('x' || substr(md5({column}::text), 1, 8))::bit(32)::bigint %% 100)"


def bucket(enrollment_id):
    digest = hashlib.md5(str(enrollment_id).encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % 100


def variants_check(variants):
    """A sentence saying what is wrong with the split, or None."""
    if not variants:
        return None
    keys = [v.get("key") for v in variants]
    if len(set(keys)) != len(keys) or not all(keys):
        return "Each variant needs its own name."
    try:
        percents = [int(v.get("percent", 0)) for v in variants]
    except (TypeError, ValueError):
        return "Variant splits must be whole percentages."
    if any(p <= 0 for p in percents):
        return "Every variant needs a share above 0%."
    if sum(percents) != 100:
        return f"The variant splits add up to {sum(percents)}%; they must add up to 100%."
    return None


def variant_for(enrollment_id, variants):
    """The key of the variant this enrollment gets, or "" without variants."""
    if not variants:
        return ""
    point, upto = bucket(enrollment_id), 0
    for variant in variants:
        upto += int(variant["percent"])
        if point < upto:
            return variant["key"]
    return variants[-1]["key"]


def variant_case_sql(variants, column="e.id"):
    """(SQL, params) for the variant key of an enrollment in the planner's INSERT."""
    if not variants:
        return "e.variant", []
    expr = BUCKET_SQL.format(column=column)
    whens, params, upto = [], [], 0
    for variant in variants:
        upto += int(variant["percent"])
        whens.append(f"WHEN {expr} < %s THEN %s")
        params.extend([upto, variant["key"]])
    return "CASE " + " ".join(whens) + " ELSE e.variant END", params
