"""Tabular KQL: each operator compiled once into a function from rows to rows, with its schema.

A schema is an ordered ``{column: KQL type or None}`` (``None``: the values tell). Operators that
keep the columns (``where``, ``order``, ``take``) pass the input's row dicts through untouched;
the others build new dicts. Nothing mutates the caller's rows.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kit.errors import LabError
from kit.lab.kql._errors import KqlError
from kit.lab.kql._scalar import AGGREGATES, Compiled, Scope, column_name, compile_expr
from kit.lab.kql._syntax import Call, Column, Expr, JoinOp, Operator, Pipeline, Query, Star
from kit.lab.kql._values import freeze, kql_type, sort_key, to_datetime, to_long

__all__ = ["Table", "column_types", "run_query"]

Row = dict[str, Any]
Schema = dict[str, str | None]


@dataclass(frozen=True)
class Table:
    """Rows and their schema."""

    schema: Schema
    rows: list[Row]


@dataclass
class _Context:
    tables: Mapping[str, Sequence[Mapping[str, Any]]]
    lets: dict[str, Any]
    tabular: dict[str, Table]
    now: dt.datetime
    schemas: dict[str, Schema]


def run_query(query: Query, tables: Mapping[str, Sequence[Mapping[str, Any]]], now: dt.datetime) -> Table:
    """Run a parsed query over ``tables`` (names already lower-cased)."""
    context = _Context(tables, {}, {}, now, {})
    for let in query.lets:
        if isinstance(let.value, Pipeline):
            context.tabular[let.name.lower()] = _pipeline(let.value, context)
        else:
            compiled = compile_expr(let.value, Scope({}, context.lets, now))
            context.lets[let.name] = compiled.fn({})
    return _pipeline(query.body, context)


def _source(name: str, pos: tuple[int, int], context: _Context) -> Table:
    key = name.lower()
    if key in context.tabular:
        return context.tabular[key]
    if key not in context.tables:
        known = ", ".join(sorted(context.tables)) or "none"
        raise KqlError("UnknownTable", f"'{name}' is not a table here (tables: {known})", *pos)
    rows = context.tables[key]
    schema = context.schemas.get(key)
    if schema is None:
        schema = _schema_of(rows)
        context.schemas[key] = schema
    return Table(schema, rows)  # type: ignore[arg-type]


def _schema_of(rows: Sequence[Mapping[str, Any]]) -> Schema:
    columns: dict[str, None] = {}
    last: Any = None
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
        raise LabError(f"a KQL table must be a sequence of rows (mappings), got {type(rows).__name__}")
    for row in rows:
        if not isinstance(row, Mapping):
            raise LabError(f"a KQL table row must be a mapping of column → value, got {type(row).__name__}")
        keys = row.keys()
        if keys == last:
            continue
        last = keys
        for key in keys:
            if key not in columns:
                columns[key] = None
    return dict.fromkeys(columns, None)


def _pipeline(pipeline: Pipeline, context: _Context) -> Table:
    if isinstance(pipeline.source, Pipeline):
        table = _pipeline(pipeline.source, context)
    else:
        table = _source(pipeline.source, pipeline.pos, context)
    for operator in pipeline.operators:
        table = _JoinRunner(operator, context).run(table) if isinstance(operator, JoinOp) else \
            _OPERATORS[operator.name](operator, table, context)
    return table


def _scope(schema: Schema, context: _Context) -> Scope:
    return Scope(schema, context.lets, context.now)


# -- simple operators -------------------------------------------------------------------------
def _where(operator: Operator, table: Table, context: _Context) -> Table:
    predicate = compile_expr(operator.args["predicate"], _scope(table.schema, context)).fn
    return Table(table.schema, [row for row in table.rows if predicate(row) is True])


def _unique_name(base: str, taken: Mapping[str, Any]) -> str:
    if base not in taken:
        return base
    index = 1
    while f"{base}{index}" in taken:
        index += 1
    return f"{base}{index}"


def _named(items: Sequence[tuple[str | None, Expr]], scope: Scope,
           taken: Mapping[str, Any]) -> list[tuple[str, Compiled]]:
    named: list[tuple[str, Compiled]] = []
    used: dict[str, None] = {}
    counter = 0
    for name, expr in items:
        if isinstance(expr, Star):
            raise KqlError("ParserFailure", "'*' is not allowed here", *expr.pos)
        if name is None:
            name = column_name(expr)
            if name is None:
                counter += 1
                name = _unique_name(f"Column{counter}", {**taken, **used})
        named.append((name, compile_expr(expr, scope)))
        used[name] = None
    return named


def _project(operator: Operator, table: Table, context: _Context) -> Table:
    named = _named(operator.args["items"], _scope(table.schema, context), {})
    seen: set[str] = set()
    for (name, _), (_, expr) in zip(named, operator.args["items"], strict=True):
        if name in seen:
            raise KqlError("InvalidArgument", f"the column '{name}' is projected twice", *_pos(expr))
        seen.add(name)
    schema: Schema = {name: compiled.type for name, compiled in named}
    if all(isinstance(expr, Column) and expr.name in table.schema for _, expr in operator.args["items"]):
        pairs = [(name, expr.name) for (name, _), (_, expr) in zip(named, operator.args["items"], strict=True)]
        schema = {name: table.schema.get(source) for name, source in pairs}
        return Table(schema, [{name: row.get(source) for name, source in pairs} for row in table.rows])
    fns = [(name, compiled.fn) for name, compiled in named]
    return Table(schema, [{name: fn(row) for name, fn in fns} for row in table.rows])


def _pos(expr: Expr) -> tuple[int, int]:
    return expr.pos


def _extend(operator: Operator, table: Table, context: _Context) -> Table:
    named = _named(operator.args["items"], _scope(table.schema, context), table.schema)
    schema = dict(table.schema)
    for name, compiled in named:
        schema[name] = compiled.type
    fns = [(name, compiled.fn) for name, compiled in named]
    rows = []
    for row in table.rows:
        new = dict(row)
        for name, fn in fns:
            new[name] = fn(row)
        rows.append(new)
    return Table(schema, rows)


def _matching(patterns: Sequence[tuple[str, tuple[int, int]]], schema: Schema, verb: str) -> list[str]:
    chosen: list[str] = []
    for pattern, pos in patterns:
        found = [name for name in schema if fnmatch.fnmatchcase(name, pattern)] if "*" in pattern else \
            ([pattern] if pattern in schema else [])
        if not found and "*" not in pattern:
            raise KqlError("UnknownColumn", f"{verb}: '{pattern}' is not a column of the input", *pos)
        chosen.extend(name for name in found if name not in chosen)
    return chosen


def _project_away(operator: Operator, table: Table, context: _Context) -> Table:
    dropped = set(_matching(operator.args["names"], table.schema, "project-away"))
    kept = [name for name in table.schema if name not in dropped]
    return Table({name: table.schema[name] for name in kept}, [{name: row.get(name) for name in kept}
                                                                for row in table.rows])


def _project_keep(operator: Operator, table: Table, context: _Context) -> Table:
    chosen = set(_matching(operator.args["names"], table.schema, "project-keep"))
    kept = [name for name in table.schema if name in chosen]
    return Table({name: table.schema[name] for name in kept}, [{name: row.get(name) for name in kept}
                                                                for row in table.rows])


def _project_rename(operator: Operator, table: Table, context: _Context) -> Table:
    renames: dict[str, str] = {}
    for new, old, pos in operator.args["pairs"]:
        if old not in table.schema:
            raise KqlError("UnknownColumn", f"project-rename: '{old}' is not a column of the input", *pos)
        renames[old] = new
    schema = {renames.get(name, name): kind for name, kind in table.schema.items()}
    return Table(schema, [{renames.get(name, name): value for name, value in row.items()} for row in table.rows])


def _count_value(expr: Expr, context: _Context, what: str) -> int:
    compiled = compile_expr(expr, Scope({}, context.lets, context.now))
    value = to_long(compiled.fn({})) if compiled.constant else None
    if value is None or value < 0:
        raise KqlError("InvalidArgument", f"{what} needs a constant non-negative number", *expr.pos)
    return value


def _take(operator: Operator, table: Table, context: _Context) -> Table:
    return Table(table.schema, list(table.rows[:_count_value(operator.args["count"], context, "take")]))


def _sorted(rows: list[Row], keys: Sequence[tuple[Expr, bool, bool | None]], scope: Scope) -> list[Row]:
    ordered = list(rows)
    for expr, descending, nulls_first in reversed(keys):
        fn = compile_expr(expr, scope).fn
        first = (not descending) if nulls_first is None else nulls_first
        values = [(fn(row), row) for row in ordered]
        present = [pair for pair in values if pair[0] is not None]
        missing = [row for value, row in values if value is None]
        present.sort(key=lambda pair: sort_key(pair[0]), reverse=descending)
        ordered = (missing + [row for _, row in present]) if first else ([row for _, row in present] + missing)
    return ordered


def _order(operator: Operator, table: Table, context: _Context) -> Table:
    return Table(table.schema, _sorted(table.rows, operator.args["keys"], _scope(table.schema, context)))


def _top(operator: Operator, table: Table, context: _Context) -> Table:
    count = _count_value(operator.args["count"], context, "top")
    rows = _sorted(table.rows, operator.args["keys"], _scope(table.schema, context))
    return Table(table.schema, rows[:count])


def _distinct(operator: Operator, table: Table, context: _Context) -> Table:
    items = operator.args["items"]
    if items is None:
        names = list(table.schema)
        schema = dict(table.schema)
        fns: list[tuple[str, Callable[[Row], Any]]] = [(name, _getter(name)) for name in names]
    else:
        named = _named(items, _scope(table.schema, context), {})
        schema = {name: compiled.type for name, compiled in named}
        fns = [(name, compiled.fn) for name, compiled in named]
    seen: set[Any] = set()
    rows = []
    for row in table.rows:
        values = [fn(row) for _, fn in fns]
        key = tuple(freeze(value) for value in values)
        if key in seen:
            continue
        seen.add(key)
        rows.append({name: value for (name, _), value in zip(fns, values, strict=True)})
    return Table(schema, rows)


def _getter(name: str) -> Callable[[Row], Any]:
    return lambda row: row.get(name)


def _count(operator: Operator, table: Table, context: _Context) -> Table:
    return Table({"Count": "long"}, [{"Count": len(table.rows)}])


# -- summarize --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Aggregate:
    names: tuple[str, ...]
    types: tuple[str | None, ...]
    compute: Callable[[list[Row]], tuple[Any, ...]]


def _agg_name(prefix: str, expr: Expr | None) -> str:
    base = column_name(expr) if expr is not None else None
    return f"{prefix}_{base}" if base else f"{prefix}_"


def _aggregate(name: str | None, expr: Expr, scope: Scope, schema: Schema, keys: Sequence[str]) -> _Aggregate:
    if not isinstance(expr, Call) or expr.name not in AGGREGATES:
        raise KqlError("InvalidArgument", "summarize needs an aggregation function such as count() or dcount(x)",
                       *expr.pos)
    func, args = expr.name, expr.args

    def arity(low: int, high: int) -> None:
        if not low <= len(args) <= high:
            raise KqlError("InvalidArgument", f"'{func}()' takes {low}-{high} argument(s), got {len(args)}",
                           *expr.pos)

    def fn(index: int) -> Callable[[Row], Any]:
        return compile_expr(args[index], scope).fn

    if func == "count":
        arity(0, 0)
        return _Aggregate((name or "count_",), ("long",), lambda rows: (len(rows),))
    if func == "countif":
        arity(1, 1)
        test = fn(0)
        return _Aggregate((name or "countif_",), ("long",), lambda rows: (sum(1 for row in rows if test(row) is True),))
    if func in ("dcount", "dcountif"):
        arity(1, 3 if func == "dcountif" else 2)
        value = fn(0)
        test = fn(1) if func == "dcountif" else (lambda row: True)
        return _Aggregate((name or _agg_name(func, args[0]),), ("long",),
                          lambda rows: (len({freeze(v) for row in rows if test(row) is True
                                             and (v := value(row)) is not None}),))
    if func in ("make_set", "make_list", "make_bag"):
        arity(1, 2)
        value = fn(0)
        limit = to_long(compile_expr(args[1], scope).fn({})) if len(args) > 1 else None
        prefix = {"make_set": "set", "make_list": "list", "make_bag": "bag"}[func]

        def collect(rows: list[Row]) -> tuple[Any, ...]:
            if func == "make_bag":
                bag: dict[str, Any] = {}
                for row in rows:
                    item = value(row)
                    if isinstance(item, dict):
                        bag.update(item)
                return (bag,)
            out: list[Any] = []
            seen: set[Any] = set()
            for row in rows:
                item = value(row)
                if item is None:
                    continue
                if func == "make_set":
                    key = freeze(item)
                    if key in seen:
                        continue
                    seen.add(key)
                out.append(item)
                if limit is not None and len(out) >= limit:
                    break
            return (out,)
        return _Aggregate((name or _agg_name(prefix, args[0]),), ("dynamic",), collect)
    if func in ("sum", "sumif", "min", "max", "avg"):
        arity(2 if func == "sumif" else 1, 2 if func == "sumif" else 1)
        value = fn(0)
        test = fn(1) if func == "sumif" else (lambda row: True)
        compiled_type = compile_expr(args[0], scope).type

        def reduce(rows: list[Row]) -> tuple[Any, ...]:
            values = [v for row in rows if test(row) is True and (v := value(row)) is not None]
            if func in ("sum", "sumif"):
                return (sum(values) if values else (0 if compiled_type in ("long", "int") else None),)
            if not values:
                return (None,)
            if func == "avg":
                return (sum(values) / len(values),)
            try:
                return ((min if func == "min" else max)(values),)
            except TypeError:
                return ((min if func == "min" else max)(values, key=sort_key),)
        kind = "real" if func == "avg" else compiled_type
        return _Aggregate((name or _agg_name(func, args[0]),), (kind,), reduce)
    if func in ("any", "take_any"):
        if not args:
            raise KqlError("InvalidArgument", f"'{func}()' needs at least one argument", *expr.pos)
        if any(isinstance(arg, Star) for arg in args):
            every = [column for column in schema if column not in keys]
            fns = [_getter(column) for column in every]
            types = tuple(schema[column] for column in every)
            names = tuple(every)
        else:
            compiled = [compile_expr(arg, scope) for arg in args]
            fns = [item.fn for item in compiled]
            types = tuple(item.type for item in compiled)
            names = tuple((name if name and len(args) == 1 else None) or _agg_name("any", arg) for arg in args)
        return _Aggregate(names, types, lambda rows: tuple(f(rows[0]) for f in fns) if rows else
                          tuple(None for _ in fns))
    arity(1, 64)  # arg_max / arg_min
    target = compile_expr(args[0], scope)
    rest = args[1:] or (Star(expr.pos),)
    columns: list[str] = []
    getters: list[Callable[[Row], Any]] = []
    types_list: list[str | None] = []
    target_name = name or column_name(args[0]) or f"{func}_"
    for arg in rest:
        if isinstance(arg, Star):
            for column in schema:
                if column not in keys and column != target_name and column not in columns:
                    columns.append(column)
                    getters.append(_getter(column))
                    types_list.append(schema[column])
        else:
            compiled_arg = compile_expr(arg, scope)
            arg_name = column_name(arg) or f"Column{len(columns) + 1}"
            if arg_name == target_name:
                continue
            columns.append(arg_name)
            getters.append(compiled_arg.fn)
            types_list.append(compiled_arg.type)
    target_fn = target.fn
    want_max = func == "arg_max"

    def pick(rows: list[Row]) -> tuple[Any, ...]:
        best, best_key = None, None
        for row in rows:
            value = target_fn(row)
            if value is None:
                continue
            key = sort_key(value)
            if best_key is None or (key > best_key if want_max else key < best_key):
                best, best_key = row, key
        if best is None:
            return (None, *(None for _ in getters))
        return (target_fn(best), *(getter(best) for getter in getters))
    return _Aggregate((target_name, *columns), (target.type, *types_list), pick)


def _summarize(operator: Operator, table: Table, context: _Context) -> Table:
    scope = _scope(table.schema, context)
    keys = _named(operator.args["keys"], scope, {})
    for (name, compiled), (_, expr) in zip(keys, operator.args["keys"], strict=True):
        if isinstance(expr, Call) and expr.name in ("bin", "floor") and expr.args and name.startswith("Column"):
            base = column_name(expr.args[0])
            if base:
                keys[keys.index((name, compiled))] = (base, compiled)
    key_names = [name for name, _ in keys]
    aggregates = [_aggregate(name, expr, scope, table.schema, key_names)
                  for name, expr in operator.args["aggregates"]]
    groups: dict[tuple[Any, ...], tuple[list[Any], list[Row]]] = {}
    key_fns = [compiled.fn for _, compiled in keys]
    for row in table.rows:
        values = [fn(row) for fn in key_fns]
        frozen = tuple(freeze(value) for value in values)
        group = groups.get(frozen)
        if group is None:
            groups[frozen] = (values, [row])
        else:
            group[1].append(row)
    if not keys and not groups:
        groups[()] = ([], [])
    schema: Schema = {name: compiled.type for name, compiled in keys}
    for aggregate in aggregates:
        for name, kind in zip(aggregate.names, aggregate.types, strict=True):
            schema[_unique_name(name, schema)] = kind
    names = list(schema)
    rows = []
    for values, members in groups.values():
        out = list(values)
        for aggregate in aggregates:
            out.extend(aggregate.compute(members))
        rows.append(dict(zip(names, out, strict=True)))
    return Table(schema, rows)


# -- mv-expand --------------------------------------------------------------------------------
def _mv_expand(operator: Operator, table: Table, context: _Context) -> Table:
    scope = _scope(table.schema, context)
    items = []
    schema = dict(table.schema)
    for name, expr, target in operator.args["items"]:
        compiled = compile_expr(expr, scope)
        column = name or column_name(expr)
        if column is None:
            raise KqlError("InvalidArgument", "mv-expand needs a column or 'name = expression'", *expr.pos)
        kind = {"string": "string", "long": "long", "int": "int", "real": "real", "double": "real",
                "bool": "bool", "datetime": "datetime", "dynamic": "dynamic", None: "dynamic"}.get(
            target.lower() if target else None)
        if kind is None:
            raise KqlError("InvalidArgument", f"mv-expand: unknown type '{target}'", *expr.pos)
        items.append((column, compiled.fn, kind))
        schema[column] = kind
    limit = _count_value(operator.args["limit"], context, "mv-expand limit") if operator.args["limit"] else None
    as_array = operator.args.get("kind") == "array"
    index_column = operator.args.get("index")
    if index_column:
        schema[index_column] = "long"
    rows: list[Row] = []
    for row in table.rows:
        expanded = [_elements(fn(row), as_array) for _, fn, _ in items]
        width = max(len(values) for values in expanded)
        if limit is not None:
            width = min(width, limit)
        for index in range(width):
            new = dict(row)
            for (column, _, kind), values in zip(items, expanded, strict=True):
                value = values[index] if index < len(values) else None
                new[column] = _cast(value, kind)
            if index_column:
                new[index_column] = index
            rows.append(new)
    return Table(schema, rows)


def _elements(value: Any, as_array: bool) -> list[Any]:
    """What ``mv-expand`` makes rows of: array items, one-property bags (or ``[key, value]``), else the value."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [[key, item] if as_array else {key: item} for key, item in value.items()]
    return [value]


def _cast(value: Any, kind: str) -> Any:
    """``to typeof(T)`` casts, never converts: an element of another type is null."""
    if kind == "dynamic" or value is None:
        return value
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind in ("long", "int"):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind == "real":
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "bool":
        return value if isinstance(value, bool) else None
    return to_datetime(value)


# -- join -------------------------------------------------------------------------------------
class _JoinRunner:
    def __init__(self, join: JoinOp, context: _Context) -> None:
        self.join = join
        self.context = context

    def run(self, left: Table) -> Table:
        join = self.join
        right = _pipeline(join.right, self.context)
        for left_key, right_key in join.keys:
            if left_key not in left.schema:
                raise KqlError("UnknownColumn", f"join: '{left_key}' is not a column of the left side", *join.pos)
            if right_key not in right.schema:
                raise KqlError("UnknownColumn", f"join: '{right_key}' is not a column of the right side",
                               *join.pos)
        left_keys = [key for key, _ in join.keys]
        right_keys = [key for _, key in join.keys]
        index: dict[tuple[Any, ...], list[Row]] = {}
        for row in right.rows:
            key = tuple(freeze(row.get(name)) for name in right_keys)
            if any(part is None for part in key):
                continue
            index.setdefault(key, []).append(row)
        kind = join.kind
        left_rows = left.rows
        if kind == "innerunique":
            seen: set[tuple[Any, ...]] = set()
            unique = []
            for row in left_rows:
                key = tuple(freeze(row.get(name)) for name in left_keys)
                if key not in seen:
                    seen.add(key)
                    unique.append(row)
            left_rows = unique
        if kind in ("leftanti", "leftsemi"):
            keep_matched = kind == "leftsemi"
            rows = [row for row in left_rows
                    if (tuple(freeze(row.get(name)) for name in left_keys) in index) is keep_matched]
            return Table(dict(left.schema), rows)
        schema = dict(left.schema)
        renamed: list[tuple[str, str]] = []
        for name, kind_ in right.schema.items():
            new = _unique_name(name, schema)
            schema[new] = kind_
            renamed.append((name, new))
        rows = []
        empty = {new: None for _, new in renamed}
        for row in left_rows:
            key = tuple(freeze(row.get(name)) for name in left_keys)
            matches = index.get(key) if not any(part is None for part in key) else None
            if not matches:
                if kind == "leftouter":
                    rows.append({**row, **empty})
                continue
            for match in matches:
                combined = dict(row)
                for name, new in renamed:
                    combined[new] = match.get(name)
                rows.append(combined)
        return Table(schema, rows)


_OPERATORS: dict[str, Callable[[Operator, Table, _Context], Table]] = {
    "where": _where,
    "project": _project,
    "project-away": _project_away,
    "project-keep": _project_keep,
    "project-rename": _project_rename,
    "extend": _extend,
    "summarize": _summarize,
    "mv-expand": _mv_expand,
    "order": _order,
    "take": _take,
    "top": _top,
    "distinct": _distinct,
    "count": _count,
}


def column_types(table: Table) -> tuple[tuple[str, str], ...]:
    """The result's (name, KQL type): declared types, else the first value's, else ``string``."""
    found = []
    for name, kind in table.schema.items():
        if kind is None:
            kind = next((kql_type(row.get(name)) for row in table.rows if row.get(name) is not None), None) or "string"
        found.append((name, kind))
    return tuple(found)

