"""A queryset compiled once per process, run with each request's values.

PERFORMANCE: on the light pages, building a queryset (filters, annotations,
subqueries) and compiling it to SQL cost more CPU than everything else the
page does with the database: the E-tjänster start page's one statement took
3.1 ms to build and compile and 0.1 ms to run. The rules stay where they are
(the policy's querysets); only their SQL is kept.

    units = Prepared(
        lambda user_id, day: policy.units(user_id=user_id, today=day).values("pk", "name"),
        user_id=int,
        day=datetime.date,
    )
    rows = units(user_id=request.user.pk, day=today)  # a list of dicts

Arguments are `int`, `datetime.date`, `str`, or a list of ints or strings
(`list[int]`, `list[str]`) that the builder filters with `InList`: the
whole list is one parameter, so the statement has one shape however long
the list is (`pk__in` would write one placeholder a value).

The builder gets stand-in values of each declared type and must return a
`.values(…)` queryset whose *shape* does not depend on them: it must not
branch on its arguments (what may vary in shape, such as a user's role, is
a separate `Prepared`). That is checked as far as it can be: the builder runs
twice with unlike stand-ins, and the two statements must be the same text
with the same parameters except where a stand-in went in. A value the
queryset computes from an argument (a year from a date, a sum) differs
between the runs and is refused at once, never frozen into the SQL. The
statement is kept per database vendor; only SQL is kept, never a row.

SECURITY: what the check cannot see is a value the builder reads from
elsewhere (the clock, settings, a row it loads, any attribute of a user but
its pk): it would be frozen into the statement for every later request. A
builder reads its declared arguments only; per-school and per-level rules
stay subqueries the database evaluates when the statement runs.
"""

import datetime
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import NotSupportedError, connections, router
from django.db.models import F, Lookup, Model, QuerySet

# Two stand-ins per type, distinct from each other and from any value a
# query would hold, and unlike each other in the ways a builder might
# (wrongly) branch on: sign and parity, each side of the school year's turn
# on 1 August, empty or not. They are only compiled, never run.
_STAND_INS: dict[type, tuple[Any, Any]] = {
    int: (7_340_021, -7_340_022),
    datetime.date: (datetime.date(1901, 2, 3), datetime.date(2987, 9, 30)),
    str: ("\x00prepared\x00", ""),
    # A list (for `InList`): two members, then empty.
    list[int]: ((), ()),
    list[str]: ((), ()),
}


def _stand_in(kind: type, run: int, number: int):
    """The stand-in of the `number`-th argument in the first or second run:
    in the first run every argument's is its own, so a parameter tells
    which argument it came from."""
    value = _STAND_INS[kind][run]
    if kind in (list[int], list[str]):
        member = _stand_in(int if kind == list[int] else str, 0, number)
        return [member, member * 2] if run == 0 else []
    if kind is int:
        return value + 2 * number if value > 0 else value - 2 * number
    if kind is datetime.date:
        return value + datetime.timedelta(days=number if run == 0 else -number)
    return f"{value}{number}" if value else value


def _same(value):
    return value


def _json(value: list) -> str:
    """A list as SQLite's `InList` takes it."""
    return json.dumps(value)


def _adapters(kind: type) -> tuple[Callable, ...]:
    return (_same, _json) if kind in (list[int], list[str]) else (_same, str)


class _Statement:
    def __init__(self, queryset: QuerySet, positions: dict[int, str], sql: str, params: list):
        query = queryset.query
        self.alias = queryset.db
        self.sql = sql
        self.params = params
        # Where each argument goes: parameter index → (argument name, how the
        # backend adapted it: as it is, or as text, as SQLite takes dates, or
        # a list as JSON, as `InList` gives it to SQLite).
        self.positions = positions
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        compiler = query.get_compiler(using=self.alias)
        compiler.as_sql()
        self.compiler = compiler
        self.converters = compiler.get_converters([column for column, *_ in compiler.select])


class Prepared:
    """A `.values()` queryset built by `build(**arguments)`, compiled once."""

    def __init__(self, build: Callable[..., QuerySet], **argument_types: type):
        unknown = [kind for kind in argument_types.values() if kind not in _STAND_INS]
        if unknown:
            raise ImproperlyConfigured(f"Prepared: no stand-ins for {unknown}")
        self.build = build
        self.argument_types = argument_types
        self._statements: dict[str, _Statement] = {}

    def _prepare(self) -> _Statement:
        runs = []
        for index in (0, 1):
            arguments = {
                name: _stand_in(kind, index, number)
                for number, (name, kind) in enumerate(self.argument_types.items())
            }
            queryset = self.build(**arguments)
            query = queryset.query
            if query.values_select == () and not query.annotation_select:
                raise ImproperlyConfigured("Prepared: the builder must return a .values() queryset")
            if query.is_sliced:
                raise ImproperlyConfigured(
                    "Prepared: slice with limit and offset, not in the builder"
                )
            sql, params = queryset.query.sql_with_params()
            runs.append((queryset, arguments, sql, list(params)))
        (queryset, first, sql, params), (_, second, other_sql, other_params) = runs
        if sql != other_sql or len(params) != len(other_params):
            raise ImproperlyConfigured("Prepared: the statement's shape depends on the arguments")
        positions = {}
        for index, (one, two) in enumerate(zip(params, other_params, strict=True)):
            found = next(
                (
                    (name, adapt)
                    for name in first
                    for adapt in _adapters(self.argument_types[name])
                    if adapt(first[name]) == one and adapt(second[name]) == two
                ),
                None,
            )
            if found is not None:
                positions[index] = found
            elif one != two:
                raise ImproperlyConfigured(
                    f"Prepared: parameter {index} is computed from the arguments ({one!r})"
                )
        return _Statement(queryset, positions, sql, params)

    def _statement(self, arguments: dict) -> tuple[_Statement, list]:
        if arguments.keys() != self.argument_types.keys():
            raise TypeError(f"Prepared: expected {sorted(self.argument_types)}")
        vendor = connections["default"].vendor
        statement = self._statements.get(vendor)
        if statement is None:
            statement = self._statements[vendor] = self._prepare()
        params = list(statement.params)
        for index, (name, adapt) in statement.positions.items():
            params[index] = adapt(arguments[name])
        return statement, params

    def count(self, **arguments) -> int:
        """How many rows the statement has (for a paginator)."""
        statement, params = self._statement(arguments)
        with connections[statement.alias].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({statement.sql}) counted", params)  # noqa: S608 - the ORM's own SQL
            return cursor.fetchone()[0]

    def __call__(self, *, limit: int | None = None, offset: int = 0, **arguments) -> list[dict]:
        """The rows as dicts of the `.values()` names; `limit` and `offset`
        take a slice of them (a paginator's page)."""
        statement, params = self._statement(arguments)
        sql = statement.sql
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [limit, offset]
        with connections[statement.alias].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if statement.converters:
            rows = statement.compiler.apply_converters(rows, statement.converters)
        names = statement.names
        return [dict(zip(names, row, strict=True)) for row in rows]


READ_AHEAD_PAGES = 1_000_000


class PreparedList:
    """A list for Django's paginator: `count()` and a slice, each one prepared
    statement (`counted.count(**counted_arguments)`, `rows(**arguments)`).

    With `total`, the name of a column of `rows` that holds the count of all
    its rows (an uncorrelated subquery, which the database runs once),
    `read_ahead` reads the page the paginator will ask for and the count in
    one statement, the same snapshot; the column is left out of the rows."""

    def __init__(
        self,
        *,
        rows: Prepared,
        counted: Prepared,
        arguments: dict,
        counted_arguments: dict,
        total: str | None = None,
    ):
        self.rows, self.counted = rows, counted
        self.arguments, self.counted_arguments = arguments, counted_arguments
        self.total = total
        self._count: int | None = None
        self._ahead: tuple[int, int, list[dict]] | None = None

    def read_ahead(self, number, per_page: int) -> None:
        """Read page `number` (the paginator's `get_page` argument) and the
        count with it. A number the paginator reads otherwise (not a whole
        number, out of range) only leaves its own statements to run."""
        if self.total is None:
            return
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        # Beyond the pages any list here has, the paginator finds the last
        # page itself (a number too large for the database's OFFSET was a 500).
        if not 1 <= number <= READ_AHEAD_PAGES:
            return
        offset = (number - 1) * per_page
        rows, total = self._rows(limit=per_page, offset=offset)
        self._ahead = (offset, per_page, rows)
        if total is not None:
            self._count = total

    def _rows(self, *, limit: int, offset: int) -> tuple[list[dict], int | None]:
        rows = self.rows(limit=limit, offset=offset, **self.arguments)
        total = None
        if self.total is not None:
            for row in rows:
                total = row.pop(self.total)
        return rows, total

    def count(self) -> int:
        if self._count is None:
            self._count = self.counted.count(**self.counted_arguments)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, part: slice) -> list[dict]:
        start = part.start or 0
        if self._ahead is not None:
            offset, limit, rows = self._ahead
            if start == offset and part.stop - start <= limit:
                return rows[: part.stop - start]
        return self._rows(limit=part.stop - start, offset=start)[0]


def model_columns(model: type[Model], prefix: str = "") -> list[str]:
    """The `.values()` names of every column of `model` (behind `prefix`, as
    "school_unit__" for a related one): what `model_from_row` needs."""
    return [f"{prefix}{field.attname}" for field in model._meta.concrete_fields]


def model_from_row(model: type[Model], row: dict, prefix: str = "") -> Model:
    """The `model` instance in a row that holds `model_columns(model, prefix)`,
    as the ORM would have made it (no field deferred)."""
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(router.db_for_read(model), names, [row[prefix + name] for name in names])


class InList(Lookup):
    """`column IN (values)` with the whole list as one parameter, so that a
    statement holding it has one shape for any number of values:
    `filter(InList(F("pk"), ids))` in a `Prepared` builder, whose argument
    is declared `list[int]` or `list[str]` (and given as a list).

    PostgreSQL reads the list as an array (`= ANY`), SQLite as JSON
    (`json_each`); no other database is used."""

    lookup_name = "in_list"
    prepare_rhs = False

    def __init__(self, lhs, rhs):
        super().__init__(F(lhs) if isinstance(lhs, str) else lhs, rhs)

    def as_sql(self, compiler, connection):
        # The column is the ORM's own SQL; the values are a parameter.
        column, params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{column} = ANY(%s)", [*params, values]
        if connection.vendor == "sqlite":
            sql = f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608
            return sql, [*params, json.dumps(values)]
        raise NotSupportedError(f"InList: no form for {connection.vendor}")
