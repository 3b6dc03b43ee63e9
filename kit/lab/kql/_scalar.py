"""Scalar KQL expressions compiled once into Python closures over a row (a ``dict``).

:func:`compile_expr` turns a syntax node into a :class:`Compiled` (the closure and its KQL type
when known); the functions and predicates the lab supports are the tables below.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kit.lab.kql._errors import KqlError
from kit.lab.kql._syntax import Between, Binary, Call, Column, Expr, InList, Literal, Member, Star
from kit.lab.kql._values import (
    kql_type,
    to_bool,
    to_datetime,
    to_double,
    to_dynamic,
    to_long,
    to_string,
    to_timespan,
)

__all__ = ["AGGREGATES", "FUNCTIONS", "Compiled", "Scope", "column_name", "compile_expr"]

Row = Mapping[str, Any]
Fn = Callable[[Row], Any]

#: Aggregation functions of ``summarize`` (compiled by the engine, not here).
AGGREGATES = frozenset({"count", "countif", "dcount", "dcountif", "make_set", "make_list", "make_bag", "arg_max",
                        "arg_min", "any", "take_any", "sum", "sumif", "min", "max", "avg"})


@dataclass(frozen=True)
class Compiled:
    """A compiled expression: ``fn(row)`` and its KQL type (``None`` when only values tell)."""

    fn: Fn
    type: str | None
    constant: bool = False


@dataclass(frozen=True)
class Scope:
    """What an expression may refer to: the columns (``None``: not known), ``let`` values and now."""

    columns: Mapping[str, str | None] | None
    lets: Mapping[str, Any]
    now: dt.datetime


def column_name(expr: Expr) -> str | None:
    """The name KQL gives an unnamed column: ``a`` for a column, ``a_b_c`` for ``a.b.c``."""
    if isinstance(expr, Column):
        return expr.name
    if isinstance(expr, Member):
        base = column_name(expr.base)
        if base is None:
            return None
        if isinstance(expr.key, Literal) and isinstance(expr.key.value, str):
            return f"{base}_{expr.key.value}"
        if isinstance(expr.key, Literal) and isinstance(expr.key.value, int):
            return f"{base}_{expr.key.value}"
        return None
    return None


def _const(value: Any, type_: str | None) -> Compiled:
    return Compiled(lambda _row: value, type_, True)


def compile_expr(expr: Expr, scope: Scope) -> Compiled:
    """Compile ``expr`` for rows of ``scope``; :class:`KqlError` for what is unknown or unsupported."""
    if isinstance(expr, Literal):
        return _const(expr.value, expr.type)
    if isinstance(expr, Column):
        return _column(expr, scope)
    if isinstance(expr, Member):
        return _member(expr, scope)
    if isinstance(expr, Binary):
        return _binary(expr, scope)
    if isinstance(expr, InList):
        return _in_list(expr, scope)
    if isinstance(expr, Between):
        return _between(expr, scope)
    if isinstance(expr, Call):
        return _call(expr, scope)
    assert isinstance(expr, Star)
    raise KqlError("ParserFailure", "'*' is not a value here", *expr.pos)


def _column(expr: Column, scope: Scope) -> Compiled:
    name = expr.name
    if scope.columns is not None and name in scope.columns:
        return Compiled(lambda row: row.get(name), scope.columns[name])
    if name in scope.lets:
        value = scope.lets[name]
        return _const(value, kql_type(value))
    if scope.columns is None:
        return Compiled(lambda row: row.get(name), None)
    near = [column for column in scope.columns if column.lower() == name.lower()]
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    raise KqlError("UnknownColumn", f"'{name}' is not a column of the input here{hint}", *expr.pos)


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        return value.get(key) if isinstance(key, str) else None
    if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) \
            and -len(value) <= key < len(value):
        return value[key]
    return None


def _path(expr: Member) -> tuple[Column, list[str]] | None:
    """``a.b["c"].d`` as (column ``a``, keys ``b c d``) when every key is a constant name."""
    keys: list[str] = []
    node: Expr = expr
    while isinstance(node, Member):
        if not (isinstance(node.key, Literal) and isinstance(node.key.value, str)):
            return None
        keys.append(node.key.value)
        node = node.base
    return (node, keys[::-1]) if isinstance(node, Column) else None


def _member(expr: Member, scope: Scope) -> Compiled:
    path = _path(expr)
    if path is not None and path[0].name not in scope.lets:
        root = _column(path[0], scope).fn
        keys = tuple(path[1])

        def walk(row: Row) -> Any:
            value = root(row)
            for key in keys:
                if type(value) is not dict:
                    return None
                value = value.get(key)
            return value
        return Compiled(walk, "dynamic")
    base = compile_expr(expr.base, scope)
    key = compile_expr(expr.key, scope)
    base_fn = base.fn
    if key.constant:
        constant = key.fn({})
        if isinstance(constant, str):
            def by_name(row: Row) -> Any:
                value = base_fn(row)
                return value.get(constant) if type(value) is dict else None
            return Compiled(by_name, "dynamic")
        return Compiled(lambda row: _index(base_fn(row), constant), "dynamic")
    key_fn = key.fn
    return Compiled(lambda row: _index(base_fn(row), key_fn(row)), "dynamic")


# -- comparisons and predicates ---------------------------------------------------------------
def _coerce_pair(left: Any, right: Any) -> tuple[Any, Any]:
    """Make two values comparable as KQL would (datetime vs text, numbers vs numbers)."""
    if type(left) is type(right):
        return left, right
    if isinstance(left, dt.datetime) and isinstance(right, str):
        return left, to_datetime(right)
    if isinstance(right, dt.datetime) and isinstance(left, str):
        return to_datetime(left), right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)) \
            and not isinstance(left, bool) and not isinstance(right, bool):
        return left, right
    if isinstance(left, bool) or isinstance(right, bool):
        return (left, right) if isinstance(left, bool) and isinstance(right, bool) else (None, None)
    return left, right


def _equal(left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    left, right = _coerce_pair(left, right)
    if left is None or right is None:
        return False
    if type(left) is not type(right) and not (isinstance(left, (int, float)) and isinstance(right, (int, float))):
        if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
            return to_string(left) == to_string(right)
        return False
    return bool(left == right)


def _order(op: str) -> Callable[[Any, Any], bool | None]:
    def compare(left: Any, right: Any) -> bool | None:
        if left is None or right is None:
            return None
        left, right = _coerce_pair(left, right)
        if left is None or right is None:
            return None
        try:
            if op == "<":
                return bool(left < right)
            if op == "<=":
                return bool(left <= right)
            if op == ">":
                return bool(left > right)
            return bool(left >= right)
        except TypeError:
            return None
    return compare


def _text(value: Any) -> str:
    return value if type(value) is str else to_string(value)


_TERM_EDGE = r"[0-9A-Za-z]"


def _has_pattern(term: str, case: bool, prefix: bool = False, suffix: bool = False) -> re.Pattern[str]:
    start = "" if suffix else f"(?<!{_TERM_EDGE})"
    end = "" if prefix else f"(?!{_TERM_EDGE})"
    return re.compile(start + re.escape(term) + end, 0 if case else re.IGNORECASE)


def _string_predicate(word: str) -> Callable[[Any, Any], bool]:
    """The test behind ``has``/``contains``/``startswith``/``endswith`` (and their ``_cs`` forms)."""
    base = word.lstrip("!")
    case = base.endswith("_cs")
    base = base.removesuffix("_cs")

    def test(left: Any, right: Any) -> bool:
        text, part = _text(left), _text(right)
        if base == "has":
            if not part:
                return False
            return _has_pattern(part, case).search(text) is not None
        if base == "hasprefix":
            return _has_pattern(part, case, prefix=True).search(text) is not None
        if base == "hassuffix":
            return _has_pattern(part, case, suffix=True).search(text) is not None
        if not case:
            text, part = text.lower(), part.lower()
        if base == "contains":
            return part in text
        if base == "startswith":
            return text.startswith(part)
        return text.endswith(part)
    return test


def _binary(expr: Binary, scope: Scope) -> Compiled:
    op = expr.op
    left = compile_expr(expr.left, scope)
    right = compile_expr(expr.right, scope)
    lf, rf = left.fn, right.fn
    if op == "and":
        return Compiled(lambda row: lf(row) is True and rf(row) is True, "bool")
    if op == "or":
        return Compiled(lambda row: lf(row) is True or rf(row) is True, "bool")
    if op in ("==", "!="):
        negate = op == "!="
        if right.constant and isinstance(right.fn({}), str):
            constant = right.fn({})

            def equal_text(row: Row) -> bool | None:
                value = lf(row)
                if type(value) is str:
                    return (value == constant) is not negate
                result = _equal(value, constant)
                return None if result is None else result is not negate
            return Compiled(equal_text, "bool")

        def equal(row: Row) -> bool | None:
            result = _equal(lf(row), rf(row))
            return None if result is None else result is not negate
        return Compiled(equal, "bool")
    if op in ("=~", "!~"):
        negate = op == "!~"
        if right.constant:
            folded = _text(right.fn({})).lower()

            def equal_fold_constant(row: Row) -> bool:
                value = lf(row)
                return ((value.lower() if type(value) is str else _text(value).lower()) == folded) is not negate
            return Compiled(equal_fold_constant, "bool")
        return Compiled(lambda row: (_text(lf(row)).lower() == _text(rf(row)).lower()) is not negate, "bool")
    if op in ("<", "<=", ">", ">="):
        compare = _order(op)
        return Compiled(lambda row: compare(lf(row), rf(row)), "bool")
    if op == "matches":
        if not right.constant:
            raise KqlError("InvalidArgument", "'matches regex' needs a constant pattern", *expr.pos)
        pattern = _regex(_text(right.fn({})), expr)
        return Compiled(lambda row: pattern.search(_text(lf(row))) is not None, "bool")
    if op.lstrip("!").removesuffix("_cs") in ("has", "contains", "startswith", "endswith", "hasprefix",
                                               "hassuffix"):
        negate = op.startswith("!")
        base = op.lstrip("!").removesuffix("_cs")
        if right.constant and base.startswith("has"):
            part = _text(right.fn({}))
            if not part:
                return Compiled(lambda row: negate, "bool")
            pattern = _has_pattern(part, op.endswith("_cs"), prefix=base == "hasprefix", suffix=base == "hassuffix")
            return Compiled(lambda row: (pattern.search(_text(lf(row))) is not None) is not negate, "bool")
        if right.constant and not op.endswith("_cs"):
            part = _text(right.fn({})).lower()
            if base == "contains":
                return Compiled(lambda row: (part in _text(lf(row)).lower()) is not negate, "bool")
            if base == "startswith":
                return Compiled(lambda row: _text(lf(row)).lower().startswith(part) is not negate, "bool")
            return Compiled(lambda row: _text(lf(row)).lower().endswith(part) is not negate, "bool")
        test = _string_predicate(op)
        return Compiled(lambda row: test(lf(row), rf(row)) is not negate, "bool")
    return _arithmetic(expr, left, right)


def _arithmetic(expr: Binary, left: Compiled, right: Compiled) -> Compiled:
    op, lf, rf = expr.op, left.fn, right.fn

    def compute(row: Row) -> Any:
        a, b = lf(row), rf(row)
        if a is None or b is None:
            return None
        try:
            if op == "+":
                return a + b if not isinstance(a, str) else None
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                if isinstance(a, dt.timedelta) and isinstance(b, dt.timedelta):
                    return a / b
                if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
                    return None if b == 0 else int(a / b)
                return a / b
            if isinstance(a, int) and isinstance(b, int):
                return None if b == 0 else int(math.fmod(a, b))
            return a % b
        except (TypeError, ZeroDivisionError, OverflowError):
            return None

    types = (left.type, right.type)
    numbers = {"long", "int", "real"}
    if None in types:
        result = None  # the values tell
    elif "datetime" in types:
        result = "timespan" if types == ("datetime", "datetime") else "datetime"
    elif "timespan" in types:
        result = "real" if op == "/" and types == ("timespan", "timespan") else "timespan"
    elif set(types) <= numbers:
        result = "real" if "real" in types else "long"
    else:
        result = None
    return Compiled(compute, result)


def _in_list(expr: InList, scope: Scope) -> Compiled:
    left = compile_expr(expr.left, scope).fn
    items = [compile_expr(item, scope) for item in expr.items]
    op = expr.op
    fold = op.endswith("~")
    negate = op.startswith("!")
    if op.startswith("has_"):
        values = _flatten([item.fn({}) for item in items]) if all(item.constant for item in items) else None
        if values is None:
            raise KqlError("InvalidArgument", f"'{op}' needs constant values", *expr.pos)
        patterns = [_has_pattern(_text(value), False) for value in values if _text(value)]
        wants_all = op.startswith("has_all")

        def has_some(row: Row) -> bool:
            text = _text(left(row))
            found = (pattern.search(text) is not None for pattern in patterns)
            return all(found) if wants_all else any(found)
        return Compiled(has_some, "bool")
    if all(item.constant for item in items):
        values = _flatten([item.fn({}) for item in items])
        if fold:
            folded = {_text(value).lower() for value in values if value is not None}
            return Compiled(lambda row: ((value := left(row)) is not None
                                         and _text(value).lower() in folded) is not negate, "bool")
        texts = {value for value in values if isinstance(value, str)}
        others = [value for value in values if not isinstance(value, str) and value is not None]

        def member(row: Row) -> bool:
            value = left(row)
            if type(value) is str:
                found = value in texts
            elif value is None:
                found = False
            else:
                found = any(_equal(value, other) for other in others)
            return found is not negate
        return Compiled(member, "bool")
    fns = [item.fn for item in items]

    def member_dynamic(row: Row) -> bool:
        value = left(row)
        candidates = _flatten([fn(row) for fn in fns])
        if fold:
            found = value is not None and _text(value).lower() in {_text(other).lower() for other in candidates}
        else:
            found = value is not None and any(_equal(value, other) for other in candidates)
        return found is not negate
    return Compiled(member_dynamic, "bool")


def _flatten(values: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    return flat


def _between(expr: Between, scope: Scope) -> Compiled:
    value, low, high = (compile_expr(part, scope).fn for part in (expr.left, expr.low, expr.high))
    at_least, at_most = _order(">="), _order("<=")
    negate = expr.negate

    def between(row: Row) -> bool | None:
        current = value(row)
        lower, upper = at_least(current, low(row)), at_most(current, high(row))
        if lower is None or upper is None:
            return None
        return (lower and upper) is not negate
    return Compiled(between, "bool")


def _regex(pattern: str, expr: Expr) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise KqlError("InvalidArgument", f"bad regular expression {pattern!r}: {error}", *expr.pos) from None


# -- functions --------------------------------------------------------------------------------
def _isempty(value: Any) -> bool:
    return value is None or value == ""


def _split(text: Any, delimiter: Any, index: Any = None) -> Any:
    parts: list[Any] = _text(text).split(_text(delimiter)) if _text(delimiter) else [_text(text)]
    if index is None:
        return parts
    return [parts[index]] if isinstance(index, int) and -len(parts) <= index < len(parts) else []


def _strcat(*values: Any) -> str:
    return "".join(_text(value) for value in values)


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    return values[-1] if values else None


def _array_length(value: Any) -> int | None:
    return len(value) if isinstance(value, list) else None


def _bag_keys(value: Any) -> list[str] | None:
    return list(value) if isinstance(value, dict) else None


def _substring(text: Any, start: Any, length: Any = None) -> str:
    source = _text(text)
    begin = max(to_long(start) or 0, 0)
    if length is None:
        return source[begin:]
    return source[begin:begin + max(to_long(length) or 0, 0)]


def _bin(value: Any, size: Any) -> Any:
    if value is None or size is None:
        return None
    if isinstance(value, dt.datetime) and isinstance(size, dt.timedelta) and size:
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return epoch + ((value - epoch) // size) * size
    if isinstance(value, dt.timedelta) and isinstance(size, dt.timedelta) and size:
        return (value // size) * size
    if isinstance(value, (int, float)) and isinstance(size, (int, float)) and size:
        binned = math.floor(value / size) * size
        return int(binned) if isinstance(value, int) and isinstance(size, int) else binned
    return None


def _set_has_element(array: Any, value: Any) -> bool | None:
    if not isinstance(array, list):
        return None
    return any(_equal(item, value) for item in array)


def _array_index_of(array: Any, value: Any) -> int | None:
    if not isinstance(array, list):
        return None
    return next((index for index, item in enumerate(array) if _equal(item, value)), -1)


def _bag_pack(*values: Any) -> dict[str, Any]:
    return {_text(values[index]): values[index + 1] for index in range(0, len(values) - 1, 2)}


def _replace_string(text: Any, lookup: Any, replacement: Any) -> str:
    return _text(text).replace(_text(lookup), _text(replacement)) if _text(lookup) else _text(text)


def _trim(pattern: Any, text: Any) -> str:
    regex = re.compile(f"^(?:{_text(pattern)})+|(?:{_text(pattern)})+$")
    return regex.sub("", _text(text))


def _not(value: Any) -> bool | None:
    return None if value is None else not to_bool(value)


def _isnotempty(value: Any) -> bool:
    return not _isempty(value)


#: name → (min args, max args or None, implementation, result type). ``iff``/``case``/``extract``
#: and the clock functions are compiled separately (they need constants or the query's now).
FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., Any], str | None]] = {
    "isnull": (1, 1, lambda value: value is None, "bool"),
    "isnotnull": (1, 1, lambda value: value is not None, "bool"),
    "isempty": (1, 1, _isempty, "bool"),
    "isnotempty": (1, 1, _isnotempty, "bool"),
    "not": (1, 1, _not, "bool"),
    "tostring": (1, 1, to_string, "string"),
    "toint": (1, 1, to_long, "int"),
    "tolong": (1, 1, to_long, "long"),
    "tobool": (1, 1, to_bool, "bool"),
    "toboolean": (1, 1, to_bool, "bool"),
    "todouble": (1, 1, to_double, "real"),
    "toreal": (1, 1, to_double, "real"),
    "todatetime": (1, 1, to_datetime, "datetime"),
    "totimespan": (1, 1, to_timespan, "timespan"),
    "tolower": (1, 1, lambda value: _text(value).lower(), "string"),
    "toupper": (1, 1, lambda value: _text(value).upper(), "string"),
    "strcat": (1, None, _strcat, "string"),
    "strlen": (1, 1, lambda value: len(_text(value)), "long"),
    "substring": (2, 3, _substring, "string"),
    "split": (2, 3, _split, "dynamic"),
    "replace_string": (3, 3, _replace_string, "string"),
    "trim": (2, 2, _trim, "string"),
    "coalesce": (2, None, _coalesce, None),
    "array_length": (1, 1, _array_length, "long"),
    "bag_keys": (1, 1, _bag_keys, "dynamic"),
    "parse_json": (1, 1, to_dynamic, "dynamic"),
    "todynamic": (1, 1, to_dynamic, "dynamic"),
    "bin": (2, 2, _bin, None),
    "floor": (2, 2, _bin, None),
    "set_has_element": (2, 2, _set_has_element, "bool"),
    "array_index_of": (2, 2, _array_index_of, "long"),
    "bag_pack": (2, None, _bag_pack, "dynamic"),
    "pack": (2, None, _bag_pack, "dynamic"),
    "pack_array": (1, None, lambda *values: list(values), "dynamic"),
    "typeof": (1, 1, lambda value: kql_type(value) or "null", "string"),
}
_SPECIAL = ("iff", "iif", "case", "extract", "ago", "now")


def _call(expr: Call, scope: Scope) -> Compiled:
    name = expr.name
    if name in AGGREGATES:
        raise KqlError("InvalidArgument", f"the aggregation '{name}()' can only be used in summarize", *expr.pos)
    if name in _SPECIAL:
        return _special(expr, scope)
    if name not in FUNCTIONS:
        raise KqlError("UnknownFunction", f"the function '{name}' is not supported by the lab's KQL", *expr.pos)
    low, high, impl, result = FUNCTIONS[name]
    _arity(expr, low, high)
    args = [compile_expr(arg, scope) for arg in expr.args]
    if name == "coalesce":
        result = next((arg.type for arg in args if arg.type is not None), None)
    if name in ("bin", "floor"):
        result = args[0].type
    fns = [arg.fn for arg in args]
    if all(arg.constant for arg in args):
        value = impl(*[fn({}) for fn in fns])
        return _const(value, result)
    if len(fns) == 1:
        only = fns[0]
        return Compiled(lambda row: impl(only(row)), result)
    if len(fns) == 2:
        first, second = fns
        return Compiled(lambda row: impl(first(row), second(row)), result)
    return Compiled(lambda row: impl(*[fn(row) for fn in fns]), result)


def _arity(expr: Call, low: int, high: int | None) -> None:
    count = len(expr.args)
    if count < low or (high is not None and count > high):
        wanted = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
        raise KqlError("InvalidArgument", f"'{expr.name}()' takes {wanted} argument(s), got {count}", *expr.pos)


def _special(expr: Call, scope: Scope) -> Compiled:
    name = expr.name
    if name == "now":
        _arity(expr, 0, 1)
        offset = compile_expr(expr.args[0], scope).fn({}) if expr.args else dt.timedelta(0)
        return _const(scope.now + (offset or dt.timedelta(0)), "datetime")
    if name == "ago":
        _arity(expr, 1, 1)
        span = compile_expr(expr.args[0], scope)
        if span.constant:
            value = span.fn({})
            if not isinstance(value, dt.timedelta):
                raise KqlError("InvalidArgument", "ago() takes a timespan such as 1h or 7d", *expr.pos)
            return _const(scope.now - value, "datetime")
        span_fn, now = span.fn, scope.now
        return Compiled(lambda row: now - value if isinstance(value := span_fn(row), dt.timedelta) else None,
                        "datetime")
    if name in ("iff", "iif"):
        _arity(expr, 3, 3)
        test, then, other = (compile_expr(arg, scope) for arg in expr.args)
        tf, yes, no = test.fn, then.fn, other.fn
        return Compiled(lambda row: yes(row) if tf(row) is True else no(row), then.type or other.type)
    if name == "case":
        if len(expr.args) < 3 or len(expr.args) % 2 == 0:
            raise KqlError("InvalidArgument", "case() takes pairs of predicate, value and then an else value",
                           *expr.pos)
        parts = [compile_expr(arg, scope) for arg in expr.args]
        pairs = [(parts[index].fn, parts[index + 1].fn) for index in range(0, len(parts) - 1, 2)]
        fallback = parts[-1].fn

        def case(row: Row) -> Any:
            for test_fn, value_fn in pairs:
                if test_fn(row) is True:
                    return value_fn(row)
            return fallback(row)
        return Compiled(case, parts[1].type)
    _arity(expr, 3, 4)  # extract(regex, group, text [, typeof(T)])
    pattern_arg, group_arg, text_arg = (compile_expr(arg, scope) for arg in expr.args[:3])
    if not pattern_arg.constant or not group_arg.constant:
        raise KqlError("InvalidArgument", "extract() needs a constant pattern and group", *expr.pos)
    pattern = _regex(_text(pattern_arg.fn({})), expr)
    group = to_long(group_arg.fn({})) or 0
    if group > pattern.groups:
        raise KqlError("InvalidArgument", f"extract(): the pattern has no group {group}", *expr.pos)
    text_fn = text_arg.fn

    def extract(row: Row) -> str | None:
        found = pattern.search(_text(text_fn(row)))
        return None if found is None else found.group(group)
    return Compiled(extract, "string")
