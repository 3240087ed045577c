"""`field__any=[…]`: the field equals one of the values, as `__in` does, but sent to
PostgreSQL as one array parameter (`= ANY(%s)`).

`__in` prepares every value through the field before the query is built (for a
foreign key, tens of microseconds each): for the few hundred ids of a batch that was
most of the CPU a batch query cost, and more than the database took to answer it. Here
the values are passed as they are, so they must already be of the column's type (ints
for ids). Other databases get a plain `IN (…)` list of the same values.

Django still walks a list or set given to a lookup, twice (to resolve expressions in it,
and to check model instances in it for a relation): wrap a batch's ids in `array(…)`
and it sees one value, not hundreds.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class Array:
    """Values for `__any`, opaque to the query builder."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = list(values)

    def __repr__(self):
        return f"array({self.values!r})"


def array(values):
    return Array(values)


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        if isinstance(self.rhs, Array):
            return self.rhs.values
        if not isinstance(self.rhs, list | tuple | set | frozenset):
            raise TypeError(f"__any takes a list of values, not {type(self.rhs).__name__}")
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            cast = self.lhs.output_field.db_type(connection)
            return f"{lhs} = ANY(%s::{cast}[])", [*params, self.rhs]
        if not self.rhs:
            raise EmptyResultSet
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*params, *self.rhs]


def register():
    Field.register_lookup(AnyOf)
    # Relations keep their own lookups (they do not inherit Field's).
    ForeignObject.register_lookup(AnyOf)
