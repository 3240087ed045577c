"""The first wall between offices: a context variable and a fail-closed manager.

The current office lives in a context variable. Middleware/decorators set it for a
request, API-key authentication for an API call, and `TenantTask` for a Celery task.
Every tenant-owned model's default manager filters by it and *raises* when none is set,
so a forgotten filter fails loudly instead of returning every office's rows.

Cross-office work (the beat fan-out, the platform admin, a webhook looking up which
office it belongs to) goes through exactly one escape hatch, `all_offices(reason)`,
so every such place can be found with `grep -rn all_offices`.

This module must never guess an office: no default, no "first office".
"""

import contextlib
import contextvars
import logging

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

logger = logging.getLogger(__name__)

_ALL = object()
_office_id = contextvars.ContextVar("office_id", default=None)


class NoOfficeSelected(RuntimeError):
    """A tenant-owned table was queried with no office in context."""


def current_office_id():
    """The id of the office in context, or None. Raises inside `all_offices`."""
    value = _office_id.get()
    if value is _ALL:
        return None
    return value


def is_cross_office():
    return _office_id.get() is _ALL


def _set_database_office(office_id):
    # Second wall (PostgreSQL row-level security): transaction-local, so a pooled
    # connection never carries one office's setting into the next request.
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('app.office_id', %s, true)",
                ["" if office_id is None else str(office_id)],
            )


def activate(office_id):
    """Set the office for the rest of this request/task (and its DB transaction)."""
    if office_id is None:
        raise ValueError("activate() needs an office id; use all_offices() to cross offices")
    _office_id.set(int(office_id))
    _set_database_office(office_id)


def deactivate():
    _office_id.set(None)
    _set_database_office(None)


@contextlib.contextmanager
def office_context(office_id):
    """Run a block as one office, in a transaction (a savepoint when nested) so that the
    database's row-level security sees the office too; restores what was before."""
    token = _office_id.set(int(office_id))
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic():
            _set_database_office(office_id)
            yield
            if not outermost:
                # Hand the enclosing transaction back its own office (or none). The
                # outermost block needs no reset: the setting ends with its transaction.
                previous = token.old_value
                _set_database_office(previous if isinstance(previous, int) else None)
    finally:
        _office_id.reset(token)


@contextlib.contextmanager
def office_scope(office_id):
    """The office in context with no transaction of its own: for work that must commit
    in several steps (each step then opens `office_context`, which sets the database's
    office inside that step's transaction)."""
    token = _office_id.set(int(office_id))
    try:
        yield
    finally:
        _office_id.reset(token)


@contextlib.contextmanager
def all_offices(reason):
    """The explicit, greppable escape hatch for cross-office work. Say why.

    On PostgreSQL the block runs in a transaction (a savepoint when nested) as the
    maintenance role, which bypasses row-level security; the role ends with the block.
    """
    if not reason:
        raise ValueError("all_offices() needs a reason")
    already = _office_id.get() is _ALL
    token = _office_id.set(_ALL)
    logger.debug("cross-office block entered", extra={"reason": reason})
    try:
        role = getattr(settings, "DATABASE_MAINTENANCE_ROLE", "")
        if already or connection.vendor != "postgresql" or not role:
            yield
            return
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
            yield
            # On an exception the savepoint/transaction rollback undoes SET LOCAL.
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")
    finally:
        _office_id.reset(token)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Filters by the office in context; raises when there is none (fail closed)."""

    def get_queryset(self):
        qs = super().get_queryset()
        value = _office_id.get()
        if value is _ALL:
            return qs
        if value is None:
            raise NoOfficeSelected(
                f"{self.model._meta.label} queried with no office in context: "
                "use tenancy.activate()/office_context(), or all_offices(reason)."
            )
        return qs.filter(office_id=value)

    def none(self):
        # An empty queryset reads nothing, so it needs no office (the OpenAPI generator
        # asks models for one to describe their filters).
        return super().get_queryset().none()


class TenantModel(models.Model):
    """Base for every tenant-owned table: `office_id NOT NULL` and the scoped manager.

    `save()` fills the office from context and refuses to write a row into another
    office than the one in context.
    """

    office = models.ForeignKey("recovery.Office", on_delete=models.PROTECT, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        value = _office_id.get()
        if value is None:
            raise NoOfficeSelected(f"Cannot save {self._meta.label} with no office in context")
        if self.office_id is None:
            if value is _ALL:
                raise NoOfficeSelected(f"{self._meta.label} needs an explicit office here")
            self.office_id = value
        elif value is not _ALL and self.office_id != value:
            raise NoOfficeSelected(
                f"Refusing to write {self._meta.label} of office {self.office_id} "
                f"while office {value} is in context"
            )
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        """A loaded row as Model.from_db makes it, without running Model.__init__ over
        every field: the loaded values go straight into the instance's __dict__ (where
        __init__ would put them: these models have no field descriptors of their own,
        and a fresh instance has no cached relation to clear), deferred fields are left
        out as __init__ leaves them out. A batch loads hundreds of rows with their
        relations, and __init__ cost more than reading them. With a pre_init or
        post_init receiver for the model, Django's own path runs, signals and all."""
        if pre_init.has_listeners(cls) or post_init.has_listeners(cls):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        new.__dict__.update(zip(field_names, values, strict=True))
        state = new._state = ModelState()
        state.adding = False
        state.db = db
        return new
