"""One row by primary key with one plain SQL statement, for the per-request reads.

PERFORMANCE: every logged-in request reads its session, its user and (in
E-tjänster and the admin sites) its OTP device. Through the ORM each of
those lookups built and compiled a query anew, which cost more CPU than the
rest of a bare logged-in request; a logged-in `hello` ran at 0.28 of an
anonymous one (`make bench`), now at about 0.47. The statements here are built once per model
from its own field list, so they follow the model, and only run.
"""

import functools

from django.core.exceptions import ValidationError
from django.db import connections, models, router


@functools.cache
def _select_by_pk(model: type[models.Model], deferred: frozenset[str], vendor: str):
    # `vendor` is part of the key because the quoting differs per database.
    connection = connections[router.db_for_read(model)]
    fields = [f for f in model._meta.concrete_fields if f.attname not in deferred]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # SECURITY: only names from the model's own metadata, quoted, go into
    # the text; the key is always a parameter.
    sql = (
        f"SELECT {columns} FROM {quote(model._meta.db_table)}"  # noqa: S608
        f" WHERE {quote(model._meta.pk.column)} = %s"
    )
    return sql, [f.attname for f in fields]


def _converters(connection, fields) -> list[tuple[int, list, object]]:
    # As the ORM's compiler: the backend's converters, then the field's own
    # (SQLite, say, returns a datetime without its time zone otherwise).
    found = []
    for index, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((index, converters, column))
    return found


@functools.cache
def _cached_converters(model, attnames: tuple[str, ...], vendor: str):
    connection = connections[router.db_for_read(model)]
    return _converters(connection, [model._meta.get_field(name) for name in attnames])


def instance_from_row(model: type[models.Model], alias: str, attnames, row):
    """A model instance from one raw row of these fields (attribute names), with
    the database values converted as the ORM converts them."""
    connection = connections[alias]
    converters = _cached_converters(model, tuple(attnames), connection.vendor)
    if converters:
        row = list(row)
        for index, functions, column in converters:
            value = row[index]
            for function in functions:
                value = function(value, column, connection)
            row[index] = value
    return model.from_db(alias, attnames, row)


def row_by_pk(model: type[models.Model], pk, *, deferred: frozenset[str] = frozenset()):
    """The instance with this primary key, or None; `deferred` fields load on first use.

    `pk` may come from a session (a string): it is converted like the ORM
    would, and a value that is no key of this model finds nothing.
    """
    try:
        pk = model._meta.pk.to_python(pk)
    except ValidationError:
        return None
    alias = router.db_for_read(model)
    connection = connections[alias]
    sql, field_names = _select_by_pk(model, deferred, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    # from_db marks the fields left out as deferred, as .defer() would.
    return instance_from_row(model, alias, field_names, row)
