"""A small KQL (Kusto Query Language) evaluator for the lab's Resource Graph and Log Analytics.

::

    from kit.lab.kql import evaluate, KqlError
    result = evaluate("resources | where type =~ 'microsoft.compute/virtualmachines' | count", tables)
    result.columns   # (("Count", "long"),)
    result.rows      # ({"Count": 12},)

The query is parsed and compiled into Python closures once, then run over the rows (``dict`` per
row; table names match case-insensitively, column names exactly). Values: null is ``None``,
datetime an aware UTC ``datetime``, timespan a ``timedelta``, dynamic what JSON gives. Result rows
may share nested values with the input tables: do not mutate them.

Supported, exactly (anything else raises :class:`KqlError` with its line and column):

* statements: ``let name = scalar;``, ``let name = tabular;``, then one tabular expression; ``//`` comments.
* tabular operators: ``where``/``filter``, ``project`` (``a``, ``b = expr``, ``a.b`` named ``a_b``),
  ``project-away`` / ``project-keep`` (``*`` wildcards), ``project-rename``, ``extend``,
  ``summarize AGG, name = AGG by key, name = expr, bin(t, 1h)``,
  ``mv-expand [kind=bag|array] [with_itemindex=i] [name =] expr [to typeof(T)] [, …] [limit n]``,
  ``join kind=inner|innerunique (default)|leftouter|leftanti|leftsemi (right) on key, $left.a == $right.b``,
  ``order by``/``sort by`` (``asc``, ``desc`` = default, ``nulls first|last``), ``limit``/``take``,
  ``top n by expr [asc|desc]``, ``distinct a, b`` / ``distinct *``, ``count``.
* aggregations: ``count()``, ``countif(p)``, ``dcount(x)``, ``dcountif(x, p)``, ``make_set(x [, max])``,
  ``make_list(x [, max])``, ``make_bag(x)``, ``arg_max(x, cols | *)``, ``arg_min``, ``any(x | *)``,
  ``take_any``, ``sum``, ``sumif``, ``min``, ``max``, ``avg``.
* operators: ``== != <>`` (strings case-sensitive), ``=~ !~`` (case-insensitive), ``< <= > >=``, ``in``,
  ``!in``, ``in~``, ``!in~`` (lists and dynamic arrays of constants), ``has``, ``!has``, ``has_cs``
  (whole terms), ``hasprefix``, ``hassuffix``, ``has_any``, ``has_all``, ``contains``, ``!contains``,
  ``contains_cs``, ``startswith``, ``endswith`` (and ``!``/``_cs`` forms), ``matches regex``,
  ``between (a .. b)``, ``!between``, ``and``, ``or``, ``not()``, ``+ - * / %`` (numbers, datetimes
  and timespans).
* literals: strings (``'…'``, ``"…"``, ``@'…'``), numbers, timespans (``1d 2h 30m 10s 100ms``),
  ``true``/``false``/``null``, ``datetime(…)``, ``timespan(…)``, ``dynamic(…)``, ``bool(…)``, ``long(…)``,
  ``real(…)``, ``int(…)``.
* dynamic access: ``x.a.b``, ``x["a"]``, ``x['a']``, ``x[0]``, ``x[-1]``, ``['bracketed name']``.
* functions: ``isnull``, ``isnotnull``, ``isempty``, ``isnotempty``, ``tostring``, ``toint``, ``tolong``,
  ``tobool``, ``todouble``/``toreal``, ``todatetime``, ``totimespan``, ``tolower``, ``toupper``, ``strcat``,
  ``strlen``, ``substring``, ``split``, ``replace_string``, ``trim``, ``extract``, ``iff``/``iif``,
  ``case``, ``coalesce``, ``ago``, ``now``, ``bin``/``floor``, ``array_length``, ``array_index_of``,
  ``set_has_element``, ``bag_keys``, ``bag_pack``/``pack``, ``pack_array``, ``parse_json``/``todynamic``,
  ``typeof``.

Null semantics as KQL: a comparison with null is null (a ``where`` drops the row), ``tostring(null)``
is ``""``, ``isempty`` is true for null and ``""``, aggregations skip nulls, join keys never match null.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kit.lab.kql._engine import column_types, run_query
from kit.lab.kql._errors import KqlError
from kit.lab.kql._syntax import parse

__all__ = ["KqlError", "KqlResult", "evaluate"]


@dataclass(frozen=True)
class KqlResult:
    """A query's answer: ``columns`` as (name, KQL type) and one dict per row, keys in column order."""

    columns: tuple[tuple[str, str], ...]
    rows: tuple[dict[str, Any], ...]


def evaluate(query: str, tables: Mapping[str, Sequence[Mapping[str, Any]]], *,
             now: dt.datetime | None = None) -> KqlResult:
    """Run ``query`` over ``tables`` (name → rows); ``now`` fixes ``now()`` and ``ago()`` (default: the clock).

    Raises
    ------
    KqlError
        When the query is malformed, uses what the lab does not support, or names an unknown
        table, column or function (``code``, ``message``, ``line``, ``column``).
    """
    lowered = {str(name).lower(): rows for name, rows in tables.items()}
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    parsed = parse(query, frozenset(lowered))
    collecting = gc.isenabled()
    gc.disable()  # the rows built here are no cycles; a full collection would walk every input row
    try:
        table = run_query(parsed, lowered, moment)
        columns = column_types(table)
        names = [name for name, _ in columns]
        rows = tuple({name: row.get(name) for name in names} for row in table.rows)
    finally:
        if collecting:
            gc.enable()
    return KqlResult(columns, rows)
