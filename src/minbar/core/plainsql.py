"""Reads and writes of whole rows without the ORM's per-call query compilation.

For the few paths that run hundreds of times a second (the sandbox network's
publishing requests, the dispatcher's claims): building a QuerySet, its ``Q``
objects and compiling its SQL cost several times what SQLite spends running
the statement. Here the SQL is built once per model, column set and database,
values are prepared by each field exactly as the ORM prepares them
(``get_db_prep_save``), and rows read back go through the same converters the
ORM applies (``from_db_value`` and the backend's), so a model instance made
here is the one ``QuerySet`` would have made.

``where`` clauses are written by the caller with ``%s`` placeholders and the
model's column names; values are always bound, never formatted in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Sized
from functools import cache
from typing import Any

from django.db import connections
from django.db.models import Field, Model

Converter = Callable[[Any, Any, Any], Any]


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # concrete fields have one
    return field.column


def _fields(model: type[Model], names: Sequence[str] | None) -> list[Field[Any, Any]]:
    meta = model._meta
    if names is None:
        return list(meta.concrete_fields)
    return [meta.get_field(name) for name in names]  # type: ignore[misc]


def _lock_clause(using: str, *, for_update: bool, skip_locked: bool) -> str:
    features = connections[using].features
    if not (for_update or skip_locked) or not features.has_select_for_update:
        return ""
    if skip_locked and features.has_select_for_update_skip_locked:
        return " FOR UPDATE SKIP LOCKED"
    return " FOR UPDATE"


@cache
def _select(
    model: type[Model], names: tuple[str, ...] | None, alias: str
) -> tuple[str, list[str], list[tuple[int, list[Converter], Any]]]:
    """The SELECT list, the attribute names, and the converters per column."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = _fields(model, names)
    table = model._meta.db_table
    converters: list[tuple[int, list[Converter], Any]] = []
    for index, field in enumerate(fields):
        column = field.get_col(table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, found, column))
    columns = ", ".join(quote(_column(f)) for f in fields)
    sql = f"SELECT {columns} FROM {quote(table)}"  # noqa: S608 - names from the model
    return sql, [f.attname for f in fields], converters


def _convert(
    rows: Iterable[Sequence[Any]],
    converters: list[tuple[int, list[Converter], Any]],
    alias: str,
) -> list[list[Any]]:
    connection = connections[alias]
    out = []
    for row in rows:
        values = list(row)
        for index, chain, column in converters:
            value = values[index]
            for convert in chain:
                value = convert(value, column, connection)
            values[index] = value
        out.append(values)
    return out


def select(
    model: type[Model],
    where: str,
    params: Sequence[Any],
    *,
    fields: Sequence[str] | None = None,
    for_update: bool = False,
    using: str = "default",
) -> list[list[Any]]:
    """Rows of ``fields`` (attribute names; every concrete field by default), converted.

    ``for_update`` locks the rows where the database can (PostgreSQL, MariaDB);
    on SQLite the caller's write transaction already runs alone.
    """
    sql, _names, converters = _select(model, tuple(fields) if fields else None, using)
    lock = _lock_clause(using, for_update=for_update, skip_locked=False)
    with connections[using].cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where}{lock}", list(params))
        return _convert(cursor.fetchall(), converters, using)


def instances[M: Model](
    model: type[M],
    where: str,
    params: Sequence[Any],
    *,
    defer: Sequence[str] = (),
    skip_locked: bool = False,
    using: str = "default",
) -> list[M]:
    """Model instances for the rows matching ``where``, as a QuerySet would make them.

    ``defer``: fields left unread (read on first use, as ``QuerySet.defer``).
    ``skip_locked``: ``FOR UPDATE SKIP LOCKED`` where the database has it.
    """
    names = None
    if defer:
        names = tuple(f.attname for f in model._meta.concrete_fields if f.attname not in defer)
    sql, attnames, converters = _select(model, names, using)
    lock = _lock_clause(using, for_update=False, skip_locked=skip_locked)
    with connections[using].cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where}{lock}", list(params))
        rows = _convert(cursor.fetchall(), converters, using)
    return [model.from_db(using, attnames, row) for row in rows]


def by_id[M: Model](
    model: type[M], ids: Iterable[int], *, defer: Sequence[str] = (), using: str = "default"
) -> dict[int, M]:
    """The instances with these primary keys, by pk (as ``QuerySet.in_bulk``)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = instances(model, f"id IN ({placeholders(wanted)})", wanted, defer=defer, using=using)
    return {item.pk: item for item in found}


@cache
def _insert(model: type[Model], alias: str) -> tuple[str, list[Field[Any, Any]], bool]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    returning = bool(connection.features.can_return_columns_from_insert)
    sql = "INSERT INTO {} ({}) VALUES ({}){}".format(  # noqa: S608 - names from the model
        quote(meta.db_table),
        ", ".join(quote(_column(f)) for f in fields),
        ", ".join(["%s"] * len(fields)),
        f" RETURNING {quote(_column(meta.pk))}" if returning else "",
    )
    return sql, fields, returning


def insert(instance: Model, *, using: str = "default") -> None:
    """INSERT ``instance`` (an auto primary key) and set its pk, as ``save()`` would.

    Field defaults and ``pre_save`` (``auto_now``) apply; signals do not fire
    (no model written this way has receivers).
    """
    model = type(instance)
    sql, fields, returning = _insert(model, using)
    connection = connections[using]
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if returning:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(
                cursor, model._meta.db_table, _column(model._meta.pk)
            )
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = using


# Bound values per statement: SQLite's default limit is 32,766, PostgreSQL's 65,535.
MAX_PARAMS = 30_000


def insert_many(instances: Sequence[Model], *, using: str = "default") -> None:
    """INSERT rows of one model, one multi-row statement per 30,000 values.

    Their pks are set where the database returns them from a multi-row insert
    (PostgreSQL, SQLite 3.35+, as ``bulk_create``). One statement instead of one
    per row: a database parses and plans each statement it is sent, and
    ``executemany`` sends one per row.
    """
    if not instances:
        return
    model = type(instances[0])
    sql, fields, _returning = _insert(model, using)
    connection = connections[using]
    returning = bool(connection.features.can_return_rows_from_bulk_insert)
    head = sql[: sql.index(" VALUES ")]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    pk_column = connection.ops.quote_name(_column(model._meta.pk))
    per_statement = max(1, MAX_PARAMS // max(1, len(fields)))
    for start in range(0, len(instances), per_statement):
        chunk = instances[start : start + per_statement]
        values = [
            f.get_db_prep_save(f.pre_save(instance, True), connection)
            for instance in chunk
            for f in fields
        ]
        statement = f"{head} VALUES {', '.join([row_sql] * len(chunk))}"
        if returning:
            statement += f" RETURNING {pk_column}"
        with connection.cursor() as cursor:
            cursor.execute(statement, values)
            pks = [row[0] for row in cursor.fetchall()] if returning else []
        for instance, pk in zip(chunk, pks, strict=False):
            instance.pk = pk
        for instance in chunk:
            instance._state.adding = False
            instance._state.db = using


def table(model: type[Model], *, using: str = "default") -> str:
    """The model's table name, quoted for hand-written SQL."""
    return connections[using].ops.quote_name(model._meta.db_table)


@cache
def _update(model: type[Model], names: tuple[str, ...], alias: str) -> tuple[str, list[Any]]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = _fields(model, names)
    sets = ", ".join(f"{quote(_column(f))} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(_column(meta.pk))} = %s"  # noqa: S608
    return sql, fields


def update(instance: Model, fields: Sequence[str], *, using: str = "default") -> int:
    """UPDATE ``fields`` of ``instance``'s row from its attributes; the rows changed."""
    sql, model_fields = _update(type(instance), tuple(fields), using)
    connection = connections[using]
    values = [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in model_fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk])
        return int(cursor.rowcount)


def update_many(
    instances: Sequence[Model], fields: Sequence[str], *, using: str = "default"
) -> int:
    """UPDATE ``fields`` of several rows of one model in one statement; the rows changed.

    A value the rows share is set once (``col = %s``); values that differ are
    chosen by primary key (``col = CASE id WHEN %s THEN %s … END``), cast to the
    column's type on PostgreSQL, which would otherwise type a ``CASE`` of bare
    literals as text.
    """
    if not instances:
        return 0
    if len(instances) == 1:
        return update(instances[0], fields, using=using)
    model = type(instances[0])
    connection = connections[using]
    quote = connection.ops.quote_name
    pk_column = quote(_column(model._meta.pk))
    casts = connection.vendor == "postgresql"
    sets: list[str] = []
    params: list[Any] = []
    pks = [instance.pk for instance in instances]
    for field in _fields(model, fields):
        values = [
            field.get_db_prep_save(getattr(instance, field.attname), connection)
            for instance in instances
        ]
        column = quote(_column(field))
        if all(_same(value, values[0]) for value in values[1:]):
            sets.append(f"{column} = %s")
            params.append(values[0])
            continue
        cast = field.cast_db_type(connection) if casts else None
        value_sql = f"CAST(%s AS {cast})" if cast else "%s"
        whens = " ".join(f"WHEN %s THEN {value_sql}" for _ in values)
        sets.append(f"{column} = CASE {pk_column} {whens} END")
        for pk, value in zip(pks, values, strict=True):
            params.extend((pk, value))
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608 - names from the model
        f"WHERE {pk_column} IN ({placeholders(pks)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *pks])
        return int(cursor.rowcount)


def _same(value: Any, other: Any) -> bool:
    # Adapters (psycopg's Jsonb) do not compare by content; their wrapped object does.
    return type(value) is type(other) and getattr(value, "obj", value) == getattr(
        other, "obj", other
    )


def param(model: type[Model], name: str, value: Any, *, using: str = "default") -> Any:
    """``value`` as a bound parameter compared with ``name``'s column (a datetime on SQLite)."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_db_prep_value(value, connections[using], prepared=False)


def placeholders(values: Sized) -> str:
    """``%s, %s, …`` for an ``IN (…)`` of ``values``."""
    return ", ".join(["%s"] * len(values))
